import type { ProcRecord } from "../kernel/decode.js";
import type { Builders } from "./builders.js";

export const procBuilders: Builders<ProcRecord> = {};
