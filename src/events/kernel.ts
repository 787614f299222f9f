/** Events of the the kernel (kernel.*, ns.*, fs.*) domain; each schema spreads eventBase from process.ts. */
export const kernelEvents = [] as const;
