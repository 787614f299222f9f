import type { NetRecord } from "../kernel/decode.js";
import type { Builders } from "./builders.js";

export const netBuilders: Builders<NetRecord> = {};
