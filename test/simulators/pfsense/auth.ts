// pfSense-pkg-RESTAPI authentication (RESTAPI/Core/Auth.inc, Auth/*.inc, docs/AUTHENTICATION_AND_
// AUTHORIZATION.md): Basic against the local user database, `X-API-Key` with a key made by
// POST /api/v2/auth/key, and JWTs (HS256, claims iss/exp/nbf/data=username) from POST /api/v2/auth/jwt
// sent as Bearer. Any enabled method that succeeds authenticates the request.
import { randomBytes, timingSafeEqual } from "node:crypto";
import { jwtVerify, SignJWT } from "jose";
import type { SimRequest } from "../common/vendor.ts";

export type PfAuthMethod = "basic" | "key" | "jwt";

function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

function header(request: SimRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export class PfAuth {
  private username: string;
  private password: string;
  private serverKey = randomBytes(32);
  private readonly apiKeys = new Set<string>();
  private readonly methods: readonly PfAuthMethod[];
  private readonly jwtExpirySeconds: number;
  private readonly now: () => number;

  constructor(
    credentials: { username: string; password: string },
    methods: readonly PfAuthMethod[],
    jwtExpirySeconds: number,
    now: () => number,
  ) {
    this.username = credentials.username;
    this.password = credentials.password;
    this.methods = methods;
    this.jwtExpirySeconds = jwtExpirySeconds;
    this.now = now;
  }

  get credentials(): { username: string; password: string } {
    return { username: this.username, password: this.password };
  }

  setCredentials(credentials: Record<string, string>): void {
    if (credentials.username === undefined || credentials.password === undefined) {
      throw new Error("pfSense credentials need username and password");
    }
    this.username = credentials.username;
    this.password = credentials.password;
  }

  /** JWTs are signed with the server key: a new key invalidates every token issued. */
  expireSessions(): void {
    this.serverKey = randomBytes(32);
  }

  reset(): void {
    this.expireSessions();
    this.apiKeys.clear();
  }

  /** The authenticated username, or undefined. `only` restricts the methods (the JWT endpoint: Basic). */
  async authenticate(request: SimRequest, only?: readonly PfAuthMethod[]): Promise<string | undefined> {
    for (const method of only ?? this.methods) {
      const user = await this.tryMethod(method, request);
      if (user !== undefined) return user;
    }
    return undefined;
  }

  private async tryMethod(method: PfAuthMethod, request: SimRequest): Promise<string | undefined> {
    const authorization = header(request, "authorization") ?? "";
    const [scheme = "", secret = ""] = authorization.split(" ", 2);
    switch (method) {
      case "basic": {
        if (scheme.toLowerCase() !== "basic") return undefined;
        const decoded = Buffer.from(secret, "base64").toString("utf8");
        const colon = decoded.indexOf(":");
        if (colon < 0) return undefined;
        const user = decoded.slice(0, colon);
        const pass = decoded.slice(colon + 1);
        return safeEqual(user, this.username) && safeEqual(pass, this.password) ? user : undefined;
      }
      case "key": {
        const key = header(request, "x-api-key");
        return key !== undefined && this.apiKeys.has(key) ? this.username : undefined;
      }
      case "jwt": {
        if (scheme.toLowerCase() !== "bearer" || secret === "") return undefined;
        try {
          const { payload } = await jwtVerify(secret, this.serverKey, {
            algorithms: ["HS256"],
            currentDate: new Date(this.now()),
          });
          return typeof payload.data === "string" ? payload.data : undefined;
        } catch {
          return undefined;
        }
      }
    }
  }

  async issueJwt(username: string): Promise<string> {
    const nowSeconds = Math.floor(this.now() / 1000);
    return new SignJWT({ data: username })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setIssuer("pfSense.home.arpa")
      .setNotBefore(nowSeconds)
      .setIssuedAt(nowSeconds)
      .setExpirationTime(nowSeconds + this.jwtExpirySeconds)
      .sign(this.serverKey);
  }

  issueApiKey(lengthBytes: number): string {
    const key = randomBytes(lengthBytes).toString("hex");
    this.apiKeys.add(key);
    return key;
  }

  apiKeysIssued(): string[] {
    return [...this.apiKeys];
  }
}
