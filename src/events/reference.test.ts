import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { installRoot } from "../paths.js";
import { eventsReference } from "./reference.js";

test("docs/events.md is the reference written from the schema (npm run docs rewrites it)", () => {
  assert.equal(readFileSync(join(installRoot, "docs/events.md"), "utf8"), eventsReference());
});

test("the reference names every kind and the fields of its own part", () => {
  const text = eventsReference();
  assert.match(text, /^## `process\.exec`$/m);
  assert.match(text, /^\| `exec\.old_tid` \| integer \|/m);
  assert.match(text, /^\| `process\.ancestry` \|/m);
});
