// Authentication material for one device: static (basic, bearer, API key in a header, query or form
// field) or a session token obtained by a login request, cached, renewed before expiry and, once,
// when the appliance says it expired. Secrets stay here: the redacted views mark every value this
// module adds, and `secrets()` feeds the scrubber that cleans error messages.

import { rawBodyForLog } from "../dictionary/appliance-text.ts";
import type { CompiledAuth, CompiledDictionary, CompiledInject } from "../dictionary/compiled.ts";
import { extractValue, mapResponseError } from "../dictionary/error-mapping.ts";
import { VnfError } from "../dictionary/errors.ts";
import type { RawResponse } from "../dictionary/executor.ts";
import { statusMatches } from "../dictionary/predicates.ts";
import {
  type AuthMaterial,
  MASK,
  NO_AUTH,
  type RenderedRequest,
  renderRequest,
} from "../dictionary/render.ts";
import { parseBody } from "../dictionary/response.ts";
import { StructureError } from "../dictionary/structure.ts";
import { TemplateError } from "../dictionary/templates.ts";

type SessionAuth = Extract<CompiledAuth, { type: "session" }>;

interface CachedToken {
  token: string;
  /** Renew after this instant (90% of the lifetime). */
  renewAt: number;
}

export interface AuthManagerOptions {
  now?: () => number;
}

function authTemplateError(error: unknown, what: string): VnfError {
  if (error instanceof VnfError) return error;
  const reason =
    error instanceof TemplateError || error instanceof StructureError ? error.message : "render failed";
  // The message names the template problem, never a value.
  return new VnfError(
    "BROKER_INVALID_REQUEST",
    `auth ${what}: ${reason} (check the device's credentials keys)`,
  );
}

/** Credential keys that name who logs in rather than a secret. */
const IDENTITY_KEYS = /^(user(name)?|login)$/i;

export class AuthManager {
  private readonly dictionary: CompiledDictionary;
  private readonly auth: CompiledAuth;
  private readonly credentials: Readonly<Record<string, string>>;
  private readonly parameters: Readonly<Record<string, string>>;
  private readonly now: () => number;
  private cached: CachedToken | undefined;
  private pending: Promise<CachedToken> | undefined;
  /** Logins performed (for tests and metrics). */
  logins = 0;

  constructor(
    dictionary: CompiledDictionary,
    credentials: Record<string, string>,
    parameters: Record<string, string>,
    options: AuthManagerOptions = {},
  ) {
    this.dictionary = dictionary;
    this.auth = dictionary.auth;
    this.credentials = { ...credentials };
    this.parameters = parameters;
    this.now = options.now ?? Date.now;
  }

  get isSession(): boolean {
    return this.auth.type === "session";
  }

  /** Statuses after which a session token is renewed and the request replayed once. */
  get renewOn(): readonly number[] {
    return this.auth.type === "session" ? this.auth.renewOn : [];
  }

  /**
   * Whether an answer with this status is a refusal of our credentials worth one renewal and one
   * replay: 401 and 403 for every authenticated device (an appliance's own session may expire while
   * static keys stay valid), plus the statuses a session dictionary names as "token expired". Only a
   * refusal after that is VNF_AUTH.
   */
  refuses(status: number): boolean {
    if (this.auth.type === "none") return false;
    return status === 401 || status === 403 || this.renewOn.includes(status);
  }

  /** Every secret value this device knows (credentials and the current token), for scrubbing. */
  secrets(): string[] {
    // A user name is an identity, not a secret: scrubbing it would corrupt unrelated text (a user
    // "admin" turned an alias "admin_hosts" into "***_hosts" in an appliance's error message).
    const values = Object.entries(this.credentials)
      .filter(([key, value]) => !IDENTITY_KEYS.test(key) && value.length >= 4)
      .map(([, value]) => value);
    if (this.cached) values.push(this.cached.token);
    // Derived forms that could appear in an echo: the basic-auth header value.
    if (this.auth.type === "basic") {
      try {
        values.push(this.basicValue());
      } catch {
        // unrenderable credentials: nothing derived to scrub
      }
    }
    return values;
  }

  private baseContext(): Record<string, unknown> {
    return { credentials: { ...this.credentials }, device: { parameters: { ...this.parameters } } };
  }

  private basicValue(): string {
    if (this.auth.type !== "basic") return "";
    const ctx = this.baseContext();
    const user = this.auth.username.render(ctx);
    const password = this.auth.password.render(ctx);
    return `Basic ${Buffer.from(`${user}:${password}`, "utf8").toString("base64")}`;
  }

  private inject(inject: CompiledInject, ctx: Record<string, unknown>): AuthMaterial {
    const render = (entries: CompiledInject["headers"]) =>
      Object.fromEntries(entries.map(([name, template]) => [name, template.render(ctx)]));
    return { headers: render(inject.headers), query: render(inject.query), form: render(inject.form) };
  }

  /** Material with every value masked, for offline renders (no login happens). */
  maskedMaterial(): AuthMaterial {
    const a = this.auth;
    switch (a.type) {
      case "none":
        return NO_AUTH;
      case "basic":
        return { headers: { Authorization: MASK }, query: {}, form: {} };
      case "bearer":
        return { headers: { [a.header]: MASK }, query: {}, form: {} };
      case "apiKeyHeader":
        return { headers: { [a.header]: MASK }, query: {}, form: {} };
      case "apiKeyQuery":
        return { headers: {}, query: { [a.param]: MASK }, form: {} };
      case "apiKeyForm":
        return { headers: {}, query: {}, form: { [a.field]: MASK } };
      case "session": {
        const mask = (entries: CompiledInject["headers"]) =>
          Object.fromEntries(entries.map(([n]) => [n, MASK]));
        return { headers: mask(a.use.headers), query: mask(a.use.query), form: mask(a.use.form) };
      }
    }
  }

  /**
   * The material for the next request. `send` performs a login request (no auth added) when the
   * session token is missing or due for renewal; concurrent callers share one login.
   */
  async material(
    send: (request: RenderedRequest) => Promise<RawResponse>,
  ): Promise<{ material: AuthMaterial; token?: string }> {
    const a = this.auth;
    try {
      switch (a.type) {
        case "none":
          return { material: NO_AUTH };
        case "basic":
          return { material: { headers: { Authorization: this.basicValue() }, query: {}, form: {} } };
        case "bearer": {
          const token = a.token.render(this.baseContext());
          return {
            material: {
              headers: { [a.header]: a.scheme ? `${a.scheme} ${token}` : token },
              query: {},
              form: {},
            },
          };
        }
        case "apiKeyHeader":
          return {
            material: { headers: { [a.header]: a.value.render(this.baseContext()) }, query: {}, form: {} },
          };
        case "apiKeyQuery":
          return {
            material: { headers: {}, query: { [a.param]: a.value.render(this.baseContext()) }, form: {} },
          };
        case "apiKeyForm":
          return {
            material: { headers: {}, query: {}, form: { [a.field]: a.value.render(this.baseContext()) } },
          };
        case "session": {
          const cached = await this.token(a, send);
          const ctx = { ...this.baseContext(), session: { token: cached.token } };
          return { material: this.inject(a.use, ctx), token: cached.token };
        }
      }
    } catch (error) {
      throw authTemplateError(error, a.type);
    }
  }

  /** Forgets `token` (the appliance refused it); the next material() logs in again. */
  invalidate(token: string | undefined): void {
    if (this.cached && (token === undefined || this.cached.token === token)) this.cached = undefined;
  }

  private async token(
    a: SessionAuth,
    send: (request: RenderedRequest) => Promise<RawResponse>,
  ): Promise<CachedToken> {
    if (this.cached && this.now() < this.cached.renewAt) return this.cached;
    if (!this.pending) {
      this.pending = this.login(a, send).finally(() => {
        this.pending = undefined;
      });
    }
    return this.pending;
  }

  private async login(
    a: SessionAuth,
    send: (request: RenderedRequest) => Promise<RawResponse>,
  ): Promise<CachedToken> {
    let request: RenderedRequest;
    try {
      request = {
        ...renderRequest(this.dictionary, a.login, this.baseContext(), "auth.login"),
        sensitive: true,
      };
    } catch (error) {
      throw authTemplateError(error, "login");
    }
    this.logins += 1;
    const raw = await send(request);
    const parsed = parseBody(raw.text, a.login.responseFormat);
    const view = { status: raw.status, headers: raw.headers, body: parsed.value };
    const ok = a.login.success ? a.login.success.test(view, {}) : statusMatches(raw.status, "2xx");
    if (!ok) {
      throw mapResponseError({
        response: view,
        rules: [...a.login.errors, ...this.dictionary.errors],
        context: {},
        label: "auth.login",
        rawText: raw.text,
      });
    }
    const token = extractValue(a.token, view, {});
    if (typeof token !== "string" && typeof token !== "number") {
      throw new VnfError("VNF_AUTH", `auth.login: the response has no token at ${a.token.describe}`, {
        httpStatus: raw.status,
        responseBody: rawBodyForLog(raw.text),
      });
    }
    let ttlSeconds = a.ttlSeconds;
    if (a.expiresIn) {
      const value = Number(extractValue(a.expiresIn, view, {}));
      if (Number.isFinite(value) && value > 0) ttlSeconds = value;
    }
    const cached = { token: String(token), renewAt: this.now() + ttlSeconds * 900 };
    this.cached = cached;
    return cached;
  }
}
