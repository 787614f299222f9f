/** Events of the network domain; each schema spreads eventBase from process.ts. */
export const netEvents = [] as const;
