import type { Handler } from "./common.js";

/** Records of the files domain (bpf/records/file.h). */
export type FileRecord = never;

export const fileHandlers = new Map<number, Handler<FileRecord>>();
