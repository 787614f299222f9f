/** Events of the memory domain; each schema spreads eventBase from process.ts. */
export const memEvents = [] as const;
