// The credentials Secret keys a dictionary needs are what its auth templates read, recorded while the
// loader checks every template against samples (aliases and expressions included). The device
// controller compares them with the Secret before the first appliance call.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { loadDictionaryText } from "../../../src/dictionary/loader.ts";
import { loadDictionaryDirectories } from "../../../src/dictionary/registry.ts";

const ACME = "test/fixtures/dictionaries/valid/acme-1.yaml";

function acmeWithAuth(auth: string): string {
  const text = readFileSync(ACME, "utf8");
  const replaced = text.replace(/^auth:\n(?: {2}.*\n)+/m, `auth:\n${auth}`);
  if (replaced === text) throw new Error("the fixture's auth block was not found");
  return replaced;
}

describe("credential keys", () => {
  it("of the shipped dictionaries: exactly the keys their auth reads", async () => {
    const { registry } = await loadDictionaryDirectories(["dictionaries"]);
    const keys = Object.fromEntries(registry.all().map((d) => [d.name, d.credentialKeys]));
    expect(keys).toEqual({
      "fortios-7": ["token"],
      "opnsense-25.7-api": ["key", "secret"],
      "opnsense-26.1-api": ["key", "secret"],
      "panos-10-xmlapi": ["password", "username"],
      "pfsense-2.7-restapi-v2": ["password", "username"],
      "vyos-1.4-httpapi": ["key"],
    });
  }, 60_000);

  it.each([
    [
      "basic auth over two keys",
      '  type: basic\n  username: "{{ credentials.user }}"\n  password: "{{ credentials.pass }}"\n',
      ["pass", "user"],
    ],
    [
      "an alias and an expression",
      '  type: basic\n  username: "{% set c = credentials %}{{ c.login }}"\n  password: "{{ credentials.pass ~ credentials.otp }}"\n',
      ["login", "otp", "pass"],
    ],
    ["no auth: none", "  type: none\n", []],
  ])("%s", (_name, auth, expected) => {
    const dictionary = loadDictionaryText(acmeWithAuth(auth), "acme-1.yaml");
    expect(dictionary.credentialKeys).toEqual(expected);
  });
});
