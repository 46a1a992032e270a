// The loaded dictionaries, and the choice of one for a device: an explicit name (VnfDevice
// spec.dictionary) wins; otherwise the vendor's dictionaries whose firmware range admits the
// appliance's version, the most specific (highest lower bound) first; without a version yet (before
// the first health check), the vendor's newest.
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import type { CompiledDictionary } from "./compiled.ts";
import { DictionaryLoadError, loadDictionaryFile } from "./loader.ts";
import { compareNames, compareVersions, rangeFloor, satisfies } from "./semver.ts";

export interface ResolveRequest {
  vendor: string;
  /** The appliance's version as its health check reports it ("2.7.2-RELEASE", "v7.4.5"). */
  firmwareVersion?: string;
  /** An explicit dictionary name. */
  name?: string;
}

export class DictionaryResolutionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DictionaryResolutionError";
  }
}

export class DictionaryRegistry {
  private readonly byNameMap = new Map<string, CompiledDictionary>();

  constructor(dictionaries: Iterable<CompiledDictionary> = []) {
    for (const d of dictionaries) this.add(d);
  }

  add(dictionary: CompiledDictionary): void {
    const existing = this.byNameMap.get(dictionary.name);
    if (existing) {
      throw new DictionaryResolutionError(
        `two dictionaries named ${dictionary.name}: ${existing.source} and ${dictionary.source}`,
      );
    }
    this.byNameMap.set(dictionary.name, dictionary);
  }

  all(): CompiledDictionary[] {
    return [...this.byNameMap.values()].sort((a, b) => compareNames(a.name, b.name));
  }

  get(name: string): CompiledDictionary | undefined {
    return this.byNameMap.get(name);
  }

  vendors(): string[] {
    return [...new Set(this.all().map((d) => d.vendor))].sort();
  }

  resolve(request: ResolveRequest): CompiledDictionary {
    if (request.name !== undefined) {
      const named = this.byNameMap.get(request.name);
      if (!named) throw new DictionaryResolutionError(`no dictionary named ${request.name}`);
      if (named.vendor !== request.vendor) {
        throw new DictionaryResolutionError(
          `dictionary ${request.name} is for vendor ${named.vendor}, the device says ${request.vendor}`,
        );
      }
      return named;
    }
    const candidates = this.all().filter((d) => d.vendor === request.vendor);
    if (candidates.length === 0) {
      throw new DictionaryResolutionError(
        `no dictionary for vendor ${request.vendor} (loaded vendors: ${this.vendors().join(", ") || "none"})`,
      );
    }
    const matching =
      request.firmwareVersion === undefined
        ? candidates
        : candidates.filter((d) => satisfies(request.firmwareVersion as string, d.firmwareRange));
    if (matching.length === 0) {
      throw new DictionaryResolutionError(
        `no ${request.vendor} dictionary admits firmware ${request.firmwareVersion} (${candidates
          .map((d) => `${d.name}: ${d.firmware}`)
          .join("; ")})`,
      );
    }
    matching.sort(
      (a, b) =>
        compareVersions(rangeFloor(b.firmwareRange), rangeFloor(a.firmwareRange)) ||
        compareNames(a.name, b.name),
    );
    return matching[0] as CompiledDictionary;
  }
}

export interface LoadDirectoriesResult {
  registry: DictionaryRegistry;
  /** Files refused (each with its file:line problems); the others are loaded. */
  errors: DictionaryLoadError[];
}

/** Loads every *.yaml / *.yml in the directories (not recursive). */
export async function loadDictionaryDirectories(directories: string[]): Promise<LoadDirectoriesResult> {
  const registry = new DictionaryRegistry();
  const errors: DictionaryLoadError[] = [];
  for (const directory of directories) {
    const entries = (await readdir(directory)).filter((f) => /\.ya?ml$/.test(f)).sort();
    for (const entry of entries) {
      const file = join(directory, entry);
      try {
        const dictionary = await loadDictionaryFile(file);
        try {
          registry.add(dictionary);
        } catch (error) {
          errors.push(
            new DictionaryLoadError(file, [
              { file, line: 1, path: ["name"], message: (error as Error).message },
            ]),
          );
        }
      } catch (error) {
        if (error instanceof DictionaryLoadError) errors.push(error);
        else throw error;
      }
    }
  }
  return { registry, errors };
}
