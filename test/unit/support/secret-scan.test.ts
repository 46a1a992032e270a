// The secrets scan can fail: a credential planted in a log line, an Event, a status or a /metrics page,
// in any of the forms it could take there, is found, and the failure message does not repeat it.
import { describe, expect, it } from "vitest";
import {
  decodeSecret,
  findLeaks,
  type Haystack,
  needlesOf,
  type ScannedSecret,
  skipReason,
} from "../../support/secret-scan.ts";

const PASSWORD = 'pa"ss/wörd+Q9=&x';
const TOKEN = "Zq8c2Kp0LwR7vY1nT4sB";

const secret: ScannedSecret = {
  namespace: "team-a",
  name: "edge-credentials",
  data: { username: "admin", password: PASSWORD, token: TOKEN, "ca.crt": "-----BEGIN CERTIFICATE-----x" },
};
const needles = needlesOf(secret);

const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");
const pinoLine = (fields: Record<string, unknown>) =>
  JSON.stringify({ level: 10, time: 1, msg: "request", ...fields });

describe("findLeaks", () => {
  it.each<[string, Haystack]>([
    [
      "a raw token in a trace-level log line",
      { source: "log", text: pinoLine({ header: `Bearer ${TOKEN}` }) },
    ],
    ["a JSON-escaped password in a log line", { source: "log", text: pinoLine({ body: { pw: PASSWORD } }) }],
    [
      "a URL-encoded password in a form body",
      { source: "log", text: `user=admin&pass=${encodeURIComponent(PASSWORD)}` },
    ],
    [
      "a Basic header made from the pair",
      { source: "log", text: `authorization: Basic ${b64(`admin:${PASSWORD}`)}` },
    ],
    [
      "the Secret's own base64 in a dumped object",
      { source: "log", text: `{"data":{"token":"${b64(TOKEN)}"}}` },
    ],
    ["an Event note", { source: "event", text: JSON.stringify({ note: `login failed with ${PASSWORD}` }) }],
    [
      "a status message",
      { source: "status", text: JSON.stringify({ conditions: [{ message: `token ${TOKEN} refused` }] }) },
    ],
    ["a metric label", { source: "metrics", text: `vnf_requests_total{device="${TOKEN}"} 1\n` }],
  ])("finds %s", (_what, haystack) => {
    const leaks = findLeaks(needles, [haystack]);
    expect(leaks.length).toBeGreaterThanOrEqual(1);
    expect(leaks[0]?.source).toBe(haystack.source);
    expect(leaks[0]?.secret).toBe("team-a/edge-credentials");
    // The report names the secret and the key, never the value.
    for (const leak of leaks) {
      expect(leak.context).not.toContain(TOKEN);
      expect(leak.context).not.toContain(PASSWORD);
      expect(leak.context).toMatch(/<team-a\/edge-credentials (password|token) \(/);
    }
  });

  it("finds nothing in texts that only name the secret, its keys and the user", () => {
    const clean: Haystack[] = [
      {
        source: "log",
        text: pinoLine({ secret: "team-a/edge-credentials", keys: ["username", "password"] }),
      },
      { source: "event", text: "CredentialsNotFound: Secret edge-credentials has no key token; user admin" },
      { source: "status", text: JSON.stringify({ transport: "https", message: "password ***" }) },
      { source: "metrics", text: 'vnf_requests_total{device="edge"} 3\n' },
    ];
    expect(findLeaks(needles, clean)).toEqual([]);
  });

  it("reports every haystack a value leaked into", () => {
    const leaks = findLeaks(needles, [
      { source: "a.log", text: TOKEN },
      { source: "b.log", text: "nothing" },
      { source: "c.prom", text: `x ${TOKEN}` },
    ]);
    expect(leaks.map((l) => l.source)).toEqual(["a.log", "c.prom"]);
  });
});

describe("needlesOf", () => {
  it("scans credentials, not identities, certificates, Helm records or short values", () => {
    expect(skipReason(secret, "username")).toMatch(/identity/);
    expect(skipReason(secret, "ca.crt")).toMatch(/public/);
    expect(skipReason(secret, "password")).toBeUndefined();
    expect(skipReason({ ...secret, data: { key: "short" } }, "key")).toMatch(/shorter/);
    expect(skipReason({ ...secret, type: "helm.sh/release.v1" }, "token")).toMatch(/Helm/);
    const values = needles.map((n) => n.value);
    expect(values).toContain(PASSWORD);
    expect(values).toContain(TOKEN);
    expect(values).not.toContain("admin");
    expect(values).not.toContain("-----BEGIN CERTIFICATE-----x");
    // One needle per distinct string: a token with no special characters is one raw + one base64.
    expect(needles.filter((n) => n.key === "token").map((n) => n.form)).toEqual(["raw", "base64"]);
  });

  it("decodes a Secret as the API serves it", () => {
    const decoded = decodeSecret({
      metadata: { namespace: "ns", name: "s" },
      type: "Opaque",
      data: { password: b64(PASSWORD) },
    });
    expect(decoded).toEqual({ namespace: "ns", name: "s", type: "Opaque", data: { password: PASSWORD } });
  });
});
