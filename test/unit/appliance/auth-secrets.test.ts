import path from "node:path";
import { describe, expect, it } from "vitest";
import { AuthManager } from "../../../src/appliance/auth.ts";
import { loadDictionaryFile } from "../../../src/dictionary/loader.ts";

const pfsense = path.resolve(import.meta.dirname, "../../../dictionaries/pfsense-2.7-restapi-v2.yaml");

describe("AuthManager.secrets (what error messages are scrubbed of)", () => {
  it("includes passwords and tokens but never the user name, which is an identity", async () => {
    const dictionary = await loadDictionaryFile(pfsense);
    const auth = new AuthManager(dictionary, { username: "admin", password: "s3cret-pw" }, {});
    const secrets = auth.secrets();
    expect(secrets).toContain("s3cret-pw");
    expect(secrets).not.toContain("admin");
    // An appliance message naming an alias "admin_hosts" must survive scrubbing intact.
    const scrubbed = secrets.reduce(
      (text, s) => text.split(s).join("***"),
      "alias admin_hosts; password s3cret-pw",
    );
    expect(scrubbed).toBe("alias admin_hosts; password ***");
  });
});
