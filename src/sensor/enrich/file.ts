import type { FileRecord } from "../kernel/decode.js";
import type { Builders } from "./builders.js";

export const fileBuilders: Builders<FileRecord> = {};
