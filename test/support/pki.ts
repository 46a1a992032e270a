// A throwaway PKI for the local control plane, the appliance simulators and the shim's tests, like
// envtest's TinyCA. ECDSA P-256 keys: generated in milliseconds, accepted by kube-apiserver, etcd and
// Node's TLS stack. Nothing here is meant for production.
// tsyringe, inside @peculiar/x509, needs the Reflect metadata polyfill loaded first.
import "reflect-metadata";
import { webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

// @peculiar/x509 is typed against the DOM's Crypto; Node's webcrypto is the same implementation.
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const algorithm = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;

export interface KeyPairPem {
  certPem: string;
  keyPem: string;
}

export interface CertificateAuthority extends KeyPairPem {
  /** Issues a certificate signed by this CA. */
  issue(request: IssueRequest): Promise<KeyPairPem>;
}

export interface IssueRequest {
  commonName: string;
  organizations?: string[];
  /** Subject alternative names: IP addresses and DNS names. */
  ips?: string[];
  dnsNames?: string[];
  usage: "server" | "client" | "both";
  validDays?: number;
}

async function generateKeys(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(algorithm, true, ["sign", "verify"])) as CryptoKeyPair;
}

export async function privateKeyPem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", key));
  return pem("PRIVATE KEY", der);
}

export async function publicKeyPem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey("spki", key));
  return pem("PUBLIC KEY", der);
}

function pem(label: string, der: Buffer): string {
  const body = der.toString("base64").replace(/(.{64})/g, "$1\n");
  return `-----BEGIN ${label}-----\n${body.trimEnd()}\n-----END ${label}-----\n`;
}

function distinguishedName(commonName: string, organizations: string[] = []): string {
  // x509 name strings are RFC 4514: escape the characters that would split the name.
  const esc = (v: string) => v.replace(/([,+"\\<>;=])/g, "\\$1");
  return [`CN=${esc(commonName)}`, ...organizations.map((o) => `O=${esc(o)}`)].join(", ");
}

function validity(days: number): { notBefore: Date; notAfter: Date } {
  const now = Date.now();
  // Back-date a little so a clock skew between processes never makes a fresh cert "not yet valid".
  return { notBefore: new Date(now - 60 * 60 * 1000), notAfter: new Date(now + days * 24 * 60 * 60 * 1000) };
}

export async function createCertificateAuthority(commonName: string): Promise<CertificateAuthority> {
  const keys = await generateKeys();
  const caCert = await x509.X509CertificateGenerator.createSelfSigned({
    name: distinguishedName(commonName),
    keys,
    signingAlgorithm: algorithm,
    ...validity(3650),
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const certPem = caCert.toString("pem");
  const keyPem = await privateKeyPem(keys.privateKey);

  async function issue(request: IssueRequest): Promise<KeyPairPem> {
    const leafKeys = await generateKeys();
    const usages: x509.ExtendedKeyUsageType[] = [];
    if (request.usage !== "client") usages.push(x509.ExtendedKeyUsage.serverAuth);
    if (request.usage !== "server") usages.push(x509.ExtendedKeyUsage.clientAuth);
    const names = [
      ...(request.ips ?? []).map((value) => ({ type: "ip" as const, value })),
      ...(request.dnsNames ?? []).map((value) => ({ type: "dns" as const, value })),
    ];
    const extensions: x509.Extension[] = [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
        true,
      ),
      new x509.ExtendedKeyUsageExtension(usages),
      await x509.AuthorityKeyIdentifierExtension.create(keys.publicKey),
    ];
    if (names.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(names));
    const cert = await x509.X509CertificateGenerator.create({
      subject: distinguishedName(request.commonName, request.organizations),
      issuer: caCert.subject,
      publicKey: leafKeys.publicKey,
      signingKey: keys.privateKey,
      signingAlgorithm: algorithm,
      ...validity(request.validDays ?? 365),
      extensions,
    });
    return { certPem: cert.toString("pem"), keyPem: await privateKeyPem(leafKeys.privateKey) };
  }

  return { certPem, keyPem, issue };
}

/** A key pair for signing (service-account tokens, JWTs in tests). */
export async function createSigningKeyPair(): Promise<{ privateKeyPem: string; publicKeyPem: string }> {
  const keys = await generateKeys();
  return {
    privateKeyPem: await privateKeyPem(keys.privateKey),
    publicKeyPem: await publicKeyPem(keys.publicKey),
  };
}
