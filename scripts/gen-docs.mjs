// Rewrites the generated documentation from the built schemas: docs/events.md and the
// policy JSON Schema, docs/policy.schema.json.
import { writeFileSync } from "node:fs";
import { eventsReference } from "../dist/src/events/reference.js";
import { policyJsonSchema } from "../dist/src/sensor/policy/format.js";

writeFileSync(new URL("../docs/events.md", import.meta.url), eventsReference());
writeFileSync(
  new URL("../docs/policy.schema.json", import.meta.url),
  `${JSON.stringify(policyJsonSchema(), null, 2)}\n`,
);
