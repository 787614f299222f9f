/** Events of the files domain; each schema spreads eventBase from process.ts. */
export const fileEvents = [] as const;
