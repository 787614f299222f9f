/** Events of processes acting on credentials and other processes (cred.change, proc.*); each schema spreads eventBase from process.ts. */
export const procEvents = [] as const;
