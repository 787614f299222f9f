import type { MemRecord } from "../kernel/decode.js";
import type { Builders } from "./builders.js";

export const memBuilders: Builders<MemRecord> = {};
