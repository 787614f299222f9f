// Every benchmark, one after another; `npm run bench -- NAME` runs only those whose file name contains NAME.
const all = ["enforce", "policy", "process-storm", "syscall-cost", "throughput"];
const only = process.argv.slice(2);
for (const name of all.filter((n) => only.length === 0 || only.some((o) => n.includes(o)))) {
  console.log(`# ${name}`);
  await import(`./${name}.js`);
}
