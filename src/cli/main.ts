#!/usr/bin/env node
// vnf-operator's command line: `vnf-operator <command> [args]`. Each command lives in its own module,
// loaded only when used, and exports `run(argv): Promise<number>` (the exit code). To add a command,
// add one entry to COMMANDS.
import { pathToFileURL } from "node:url";

export interface CommandModule {
  run(argv: string[]): Promise<number>;
}

interface CommandEntry {
  summary: string;
  load(): Promise<CommandModule>;
}

export const COMMANDS: Readonly<Record<string, CommandEntry>> = {
  validate: {
    summary: "check dictionary files (exit 1 with file:line errors)",
    load: () => import("./validate.ts"),
  },
  render: {
    summary: "print the exact HTTP request(s) an operation would send (secrets masked)",
    load: () => import("./render.ts"),
  },
  import: {
    summary: "print rule manifests for an appliance's existing rules, to adopt them in place",
    load: () => import("./import.ts"),
  },
  run: {
    summary: "run the operator (reconcile devices and rules against the appliances)",
    load: () => import("./run.ts"),
  },
  shim: {
    summary: "serve the CloudStack VNF broker API by writing rule resources",
    load: () => import("./shim.ts"),
  },
  // demo and shim are added here by their modules.
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return [
    "usage: vnf-operator <command> [args]",
    "",
    "commands:",
    ...lines,
    "",
    "vnf-operator <command> --help for details",
  ].join("\n");
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(`${usage()}\n`);
    return name === undefined ? 2 : 0;
  }
  const entry = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!entry) {
    process.stderr.write(`vnf-operator: unknown command ${JSON.stringify(name)}\n\n${usage()}\n`);
    return 2;
  }
  const command = await entry.load();
  return command.run(rest);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`vnf-operator: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
