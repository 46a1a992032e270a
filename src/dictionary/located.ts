// An error at a place in a dictionary document: the loader turns `path` into file:line.
export type DocPath = (string | number)[];

export class LocatedError extends Error {
  readonly path: DocPath;
  constructor(path: DocPath, message: string) {
    super(message);
    this.name = "LocatedError";
    this.path = path;
  }
}

export function formatDocPath(path: DocPath): string {
  let out = "";
  for (const part of path) out += typeof part === "number" ? `[${part}]` : out === "" ? part : `.${part}`;
  return out === "" ? "(document)" : out;
}
