// Server certificates for the simulators: loopback names, signed by a throwaway CA (test/support/pki.ts).
import { isIP } from "node:net";
import { type CertificateAuthority, createCertificateAuthority, type KeyPairPem } from "../../support/pki.ts";

export async function simulatorCertificate(
  vendor: string,
  host: string,
  ca?: CertificateAuthority,
): Promise<{ ca: CertificateAuthority; server: KeyPairPem }> {
  const authority = ca ?? (await createCertificateAuthority(`vnf-operator ${vendor} simulator CA`));
  const ips = ["127.0.0.1", "::1"];
  const dnsNames = ["localhost"];
  if (host !== "0.0.0.0" && host !== "::") {
    if (isIP(host) !== 0) {
      if (!ips.includes(host)) ips.push(host);
    } else if (!dnsNames.includes(host)) {
      dnsNames.push(host);
    }
  }
  const server = await authority.issue({ commonName: `${vendor}-simulator`, ips, dnsNames, usage: "server" });
  return { ca: authority, server };
}
