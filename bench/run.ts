// Every benchmark, one after another.
await import("./process-storm.js");
