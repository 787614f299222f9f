// Rewrites the generated documentation (docs/events.md) from the built schema.
import { writeFileSync } from "node:fs";
import { eventsReference } from "../dist/src/events/reference.js";

writeFileSync(new URL("../docs/events.md", import.meta.url), eventsReference());
