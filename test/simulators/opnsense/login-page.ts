// `GET /`: the web GUI's login page. It needs no credentials, and clients probe it to recognise an
// OPNsense (oxl-opnsense-client's Client.is_opnsense() wants status 200 and "OPNsense" in the body).
import type { SimResponse } from "../common/vendor.ts";

export function loginPage(): SimResponse {
  return {
    status: 200,
    headers: { "content-type": "text/html; charset=UTF-8" },
    body: `<!doctype html>
<html lang="en-US" class="no-js">
  <head>
    <meta charset="UTF-8" />
    <meta name="robots" content="noindex, nofollow" />
    <title>Login | OPNsense</title>
    <link rel="stylesheet" href="/ui/themes/opnsense/build/css/main.css" type="text/css" />
  </head>
  <body class="page-login">
    <main class="login-modal-container">
      <header class="login-modal-head">
        <div class="navbar-brand"><img src="/ui/themes/opnsense/build/images/default-logo.svg" alt="OPNsense" /></div>
      </header>
      <div class="login-modal-content">
        <form class="clearfix" id="iform" name="iform" method="post" autocomplete="off">
          <input type="hidden" name="login" value="1" />
          <div class="form-group"><label for="usernamefld">Username:</label>
            <input id="usernamefld" type="text" name="usernamefld" class="form-control user" tabindex="1" autofocus="autofocus" autocapitalize="off" autocorrect="off" /></div>
          <div class="form-group"><label for="passwordfld">Password:</label>
            <input id="passwordfld" type="password" name="passwordfld" class="form-control pwd" tabindex="2" /></div>
          <button type="submit" name="login" value="1" class="btn btn-primary pull-right">Login</button>
        </form>
      </div>
    </main>
    <footer class="login-foot container-fluid">OPNsense (c) 2014-2025 Deciso B.V.</footer>
  </body>
</html>
`,
  };
}
