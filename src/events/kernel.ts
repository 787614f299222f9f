/** Events of the credentials and the kernel (cred.*, kernel.*, proc.*, ns.*, fs.*) domain; each schema spreads eventBase from process.ts. */
export const kernelEvents = [] as const;
