// The auth section: how credentials (and a session token) are sent, in the credentials scope.

import { type CompileContext, compileExtractor, templateAt } from "./compile-context.ts";
import { compileRequest } from "./compile-request.ts";
import type { CompiledAuth, CompiledInject } from "./compiled.ts";
import { type DocPath, LocatedError } from "./located.ts";
import type { Scope } from "./samples.ts";
import type { AuthSpec } from "./schema.ts";

function compileInject(
  spec: { headers?: Record<string, string>; query?: Record<string, string>; form?: Record<string, string> },
  path: DocPath,
  scope: Scope,
  cc: CompileContext,
): CompiledInject {
  const out: CompiledInject = { headers: [], query: [], form: [] };
  for (const part of ["headers", "query", "form"] as const) {
    for (const [name, source] of Object.entries(spec[part] ?? {})) {
      const compiled = cc.problems.at(() => templateAt([...path, part, name], source));
      if (compiled) {
        cc.problems.at(() => cc.validator.template([...path, part, name], compiled, scope));
        out[part].push([name, compiled]);
      }
    }
  }
  return out;
}

export function compileAuth(spec: AuthSpec, cc: CompileContext): CompiledAuth | undefined {
  const path: DocPath = ["auth"];
  const scope: Scope = { credentials: true, steps: {} };
  const tpl = (key: string, source: string) => {
    const compiled = cc.problems.at(() => templateAt([...path, key], source));
    cc.problems.at(() => cc.validator.template([...path, key], compiled, scope));
    return compiled;
  };
  switch (spec.type) {
    case "none":
      return { type: "none" };
    case "basic": {
      const username = tpl("username", spec.username);
      const password = tpl("password", spec.password);
      return username && password ? { type: "basic", username, password } : undefined;
    }
    case "bearer": {
      const token = tpl("token", spec.token);
      return token ? { type: "bearer", token, header: spec.header, scheme: spec.scheme } : undefined;
    }
    case "apiKeyHeader": {
      const value = tpl("value", spec.value);
      return value ? { type: "apiKeyHeader", header: spec.header, value } : undefined;
    }
    case "apiKeyQuery": {
      const value = tpl("value", spec.value);
      return value ? { type: "apiKeyQuery", param: spec.param, value } : undefined;
    }
    case "apiKeyForm": {
      const value = tpl("value", spec.value);
      return value ? { type: "apiKeyForm", field: spec.field, value } : undefined;
    }
    case "session": {
      const login = compileRequest(spec.login, [...path, "login"], scope, cc);
      const token = cc.problems.at(() => compileExtractor(spec.token, [...path, "token"]));
      const expiresIn = cc.problems.at(() =>
        spec.expiresIn === undefined ? undefined : compileExtractor(spec.expiresIn, [...path, "expiresIn"]),
      );
      cc.problems.at(() => cc.validator.extractor([...path, "token"], token, scope));
      const use = compileInject(
        spec.use,
        [...path, "use"],
        { session: true, credentials: true, steps: {} },
        cc,
      );
      if (use.headers.length + use.query.length + use.form.length === 0) {
        cc.problems.list.push(
          new LocatedError([...path, "use"], "say how the token is sent (headers, query or form)"),
        );
      }
      if (!login || !token) return undefined;
      const auth: CompiledAuth = {
        type: "session",
        login,
        token,
        ttlSeconds: spec.ttlSeconds,
        use,
        renewOn: spec.renewOn,
      };
      if (expiresIn) auth.expiresIn = expiresIn;
      return auth;
    }
  }
}
