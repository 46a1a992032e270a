// Administrator sessions, the other way into the FortiOS REST API besides an API token: `POST /logincheck`
// with the form fields `username` and `secretkey` (`ajax=1` optional) answers 200 with a body starting
// with "1" and sets two cookies, the session (`APSCOOKIE_…`) and the CSRF token (quoted). Later requests
// carry both cookies; a request that changes something (POST, PUT, DELETE) must also echo the token's
// value, without the quotes, in `X-CSRFTOKEN`, else it is refused with 403 ("no valid CSRF token found").
// A refused login answers 200 with a body starting with "0" and sets no cookie. `/logout` ends it.
//
// The token cookie's name depends on the firmware (fortiosapi issues #50 and #79, fortigate-api #10/#52):
// up to 7.0.13 and 7.2.3 it is `ccsrftoken` (with a `ccsrftoken_<n>` twin); from 7.0.14 / 7.2.4 it is
// `ccsrftoken_<https port>` only, so a client that looks for exactly `ccsrftoken` (fortiosapi 1.0.5)
// sends no X-CSRFTOKEN and its writes get 403; from 7.6.3 `/logincheck` sets no session cookie at all
// (sessions moved to `/api/v2/authentication`, not simulated).
import { randomBytes } from "node:crypto";
import type { SimRequest, SimResponse } from "../common/vendor.ts";
import { compareFirmware, type Firmware } from "./firmware.ts";

export interface AdminAccount {
  username: string;
  password: string;
}

interface Session {
  csrf: string;
  username: string;
}

export type SessionCheck = { user: string } | { refused: "no-session" | "csrf" };

export class AdminSessions {
  private readonly sessions = new Map<string, Session>();
  private readonly cookieName: string;
  private account: AdminAccount;

  private readonly firmware: Firmware;

  constructor(account: AdminAccount, serial: string, firmware: Firmware) {
    this.account = account;
    this.firmware = firmware;
    // FortiOS names the session cookie after the box (APSCOOKIE_<number>).
    this.cookieName = `APSCOOKIE_${[...serial].reduce((n, c) => (n * 31 + c.charCodeAt(0)) % 1e10, 7)}`;
  }

  get admin(): AdminAccount {
    return { ...this.account };
  }

  /** `POST /logincheck` (form body, whatever the Content-Type says). */
  login(request: SimRequest): SimResponse {
    const form = new URLSearchParams(request.body);
    const ajax = form.get("ajax") === "1";
    if (form.get("username") !== this.account.username || form.get("secretkey") !== this.account.password) {
      return { status: 200, headers: { "content-type": "text/html" }, body: ajax ? "0" : LOGIN_FAILED_PAGE };
    }
    const body = ajax ? "1" : '1document.location="/ng/";\n';
    if (compareFirmware(this.firmware, [7, 6, 3]) >= 0) {
      return { status: 200, headers: { "content-type": "text/html" }, body };
    }
    const id = randomBytes(24).toString("hex");
    const csrf = randomBytes(16).toString("hex").toUpperCase();
    this.sessions.set(id, { csrf, username: this.account.username });
    const port = /:(\d+)$/.exec(request.headers.host ?? "")?.[1] ?? "443";
    const tokenCookies = this.legacyTokenName()
      ? [
          `ccsrftoken="${csrf}"; path=/; secure`,
          `${this.cookieName.replace("APSCOOKIE", "ccsrftoken")}="${csrf}"; path=/; secure`,
        ]
      : [`ccsrftoken_${port}="${csrf}"; path=/; secure`];
    return {
      status: 200,
      headers: { "content-type": "text/html" },
      cookies: [`${this.cookieName}="${id}"; path=/; secure; HttpOnly; SameSite=Strict`, ...tokenCookies],
      body,
    };
  }

  /** Before 7.0.14 (7.0 branch) and 7.2.4 the token cookie is plain `ccsrftoken`. */
  private legacyTokenName(): boolean {
    const [major, minor] = this.firmware;
    if (major < 7) return true;
    if (major === 7 && minor === 0) return compareFirmware(this.firmware, [7, 0, 14]) < 0;
    if (major === 7 && minor === 2) return compareFirmware(this.firmware, [7, 2, 4]) < 0;
    return false;
  }

  /** `GET|POST /logout`: the session ends, its cookies are cleared. */
  logout(request: SimRequest): SimResponse {
    const id = this.sessionId(request);
    if (id !== undefined) this.sessions.delete(id);
    return {
      status: 200,
      headers: { "content-type": "text/html" },
      cookies: [
        `${this.cookieName}=""; path=/; expires=Thu, 01 Jan 1970 00:00:00 GMT`,
        'ccsrftoken=""; path=/; expires=Thu, 01 Jan 1970 00:00:00 GMT',
      ],
      body: '<html><body><script>top.location="/login";</script></body></html>\n',
    };
  }

  /** Whether the request belongs to a live session (and, when it writes, carries its CSRF token). */
  check(request: SimRequest): SessionCheck {
    const id = this.sessionId(request);
    const session = id === undefined ? undefined : this.sessions.get(id);
    if (session === undefined) return { refused: "no-session" };
    if (request.method !== "GET" && request.headers["x-csrftoken"] !== session.csrf) {
      return { refused: "csrf" };
    }
    return { user: session.username };
  }

  hasSessionCookie(request: SimRequest): boolean {
    return this.sessionId(request) !== undefined;
  }

  expire(): void {
    this.sessions.clear();
  }

  setAccount(account: AdminAccount): void {
    this.account = account;
    this.sessions.clear();
  }

  private sessionId(request: SimRequest): string | undefined {
    const header = request.headers.cookie ?? "";
    for (const part of header.split(";")) {
      const eq = part.indexOf("=");
      if (eq < 0) continue;
      if (part.slice(0, eq).trim() !== this.cookieName) continue;
      const value = part
        .slice(eq + 1)
        .trim()
        .replace(/^"(.*)"$/, "$1");
      return value === "" ? undefined : value;
    }
    return undefined;
  }
}

const LOGIN_FAILED_PAGE =
  '0<!DOCTYPE html><html><head><title>Login</title></head><body><div class="error">Authentication failure</div></body></html>\n';
