// `vnf-operator validate <files or directories...>`: loads each dictionary as the operator would and
// prints one OK line per good file, or every problem as file:line: path: message. Exit 1 on any problem.
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { DictionaryLoadError, formatProblem, loadDictionaryFile } from "../dictionary/loader.ts";

const HELP = `usage: vnf-operator validate <file.yaml|directory>...

Loads each dictionary (directories: every *.yaml / *.yml in them), validates its structure, compiles
and test-renders every template, checks every JSONPath. Prints "OK <file> ..." per valid file and
"<file>:<line>: <path>: <message>" per problem. Exit status 1 when any file is refused.`;

async function expand(paths: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const path of paths) {
    let isDirectory = false;
    try {
      isDirectory = (await stat(path)).isDirectory();
    } catch {
      isDirectory = false;
    }
    if (isDirectory) {
      const entries = (await readdir(path)).filter((f) => /\.ya?ml$/.test(f)).sort();
      out.push(...entries.map((e) => join(path, e)));
    } else {
      out.push(path);
    }
  }
  return out;
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { help: { type: "boolean", short: "h" } },
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  if (positionals.length === 0) {
    process.stderr.write(`${HELP}\n`);
    return 2;
  }
  let failed = 0;
  for (const file of await expand(positionals)) {
    try {
      const d = await loadDictionaryFile(file);
      const kinds = Object.keys(d.resources).join(", ");
      process.stdout.write(`OK ${file} (${d.name}: ${d.vendor} ${d.firmware}; ${kinds})\n`);
    } catch (error) {
      failed += 1;
      if (error instanceof DictionaryLoadError) {
        for (const problem of error.problems) process.stderr.write(`${formatProblem(problem)}\n`);
      } else {
        process.stderr.write(`${file}: ${error instanceof Error ? error.message : String(error)}\n`);
      }
    }
  }
  return failed === 0 ? 0 : 1;
}
