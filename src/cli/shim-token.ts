// `vnf-operator shim token`: mints a bearer token the shim accepts, for CloudStack settings that take
// a fixed token (vnf.broker.auth.token for the service, api_credentials.jwtToken per device). The
// token goes to stdout alone (for a script or a copy), its expiry to stderr.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { parseDuration } from "../api/duration.ts";
import { type JwtAlgorithm, mintToken } from "../shim/auth.ts";

const HELP = `usage: vnf-operator shim token --key-file FILE --lifetime DURATION [flags]

Prints a token for the shim, signed with the key it verifies with (HS256: the same shared secret as
the shim's --jwt-key-file; RS256: the private key of its public key). Paste it into CloudStack's
vnf.broker.auth.token (with vnf.broker.auth.type=jwt) or a device's api_credentials.jwtToken.
CloudStack does not renew it: pick a lifetime you will rotate within, and mint a new one before then.

flags:
  --key-file FILE       HS256 shared secret (>= 32 bytes) or RS256 PEM private key (required)
  --lifetime DURATION   how long the token is valid, e.g. 720h (required)
  --algorithm ALG       HS256 (default) or RS256
  --subject SUB         the sub claim (the rate limit is per subject); default cloudstack-mgmt
  --scope SCOPE         vnf:rw (default; create, update, delete, reconcile) or vnf:r (reads only)
  --issuer ISS          iss claim, when the shim checks --jwt-issuer
  --audience AUD        aud claim, when the shim checks --jwt-audience
`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      "key-file": { type: "string" },
      lifetime: { type: "string" },
      algorithm: { type: "string" },
      subject: { type: "string" },
      scope: { type: "string" },
      issuer: { type: "string" },
      audience: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (!values["key-file"] || !values.lifetime) {
    process.stderr.write(`vnf-operator shim token: --key-file and --lifetime are required\n\n${HELP}`);
    return 2;
  }
  const algorithm = (values.algorithm ?? "HS256").toUpperCase();
  if (algorithm !== "HS256" && algorithm !== "RS256")
    throw new Error(`--algorithm must be HS256 or RS256, got ${algorithm}`);
  const scope = values.scope ?? "vnf:rw";
  if (scope !== "vnf:rw" && scope !== "vnf:r")
    throw new Error(`--scope must be vnf:rw or vnf:r, got ${scope}`);
  const lifetimeSec = parseDuration(values.lifetime) / 1000;
  const now = new Date();
  const token = await mintToken({
    algorithm: algorithm as JwtAlgorithm,
    key: readFileSync(values["key-file"]),
    subject: values.subject ?? "cloudstack-mgmt",
    scope,
    lifetimeSec,
    now,
    ...(values.issuer ? { issuer: values.issuer } : {}),
    ...(values.audience ? { audience: values.audience } : {}),
  });
  process.stdout.write(`${token}\n`);
  const expires = new Date(now.getTime() + Math.round(lifetimeSec) * 1000).toISOString();
  process.stderr.write(
    `token for ${values.subject ?? "cloudstack-mgmt"} (${scope}, ${algorithm}) expires ${expires}\n`,
  );
  return 0;
}
