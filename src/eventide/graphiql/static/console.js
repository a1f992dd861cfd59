// Eventide's GraphiQL: sign in with the login mutation, keep the access token in this
// tab only (sessionStorage), and send it as an Authorization header. Never in a URL.
(function () {
  "use strict";

  var ENDPOINT = "/graphql";
  var TOKEN_KEY = "eventide.accessToken";
  var USER_KEY = "eventide.username";
  var LOGIN =
    "mutation Login($username: String!, $password: String!) {" +
    " login(username: $username, password: $password) { accessToken user { username role } } }";

  var loginForm = document.getElementById("login");
  var loginError = document.getElementById("login-error");
  var session = document.getElementById("session");
  var who = document.getElementById("who");
  var root = ReactDOM.createRoot(document.getElementById("graphiql"));

  function token() {
    return sessionStorage.getItem(TOKEN_KEY);
  }

  function post(body) {
    var headers = { "Content-Type": "application/json", Accept: "application/json" };
    if (token()) headers.Authorization = "Bearer " + token();
    return fetch(ENDPOINT, {
      method: "POST",
      headers: headers,
      body: JSON.stringify(body),
      credentials: "omit",
    }).then(function (response) {
      return response.json();
    });
  }

  function render() {
    var signedIn = Boolean(token());
    loginForm.hidden = signedIn;
    session.hidden = !signedIn;
    who.textContent = sessionStorage.getItem(USER_KEY) || "";
    // A new key remounts GraphiQL, so the schema is fetched again with the new identity.
    root.render(
      React.createElement(GraphiQL, {
        key: token() || "anonymous",
        fetcher: post,
        defaultQuery: "{\n  storage {\n    hotEvents\n    coldEvents\n  }\n}\n",
      })
    );
  }

  loginForm.addEventListener("submit", function (event) {
    event.preventDefault();
    loginError.textContent = "";
    var variables = {
      username: document.getElementById("username").value,
      password: document.getElementById("password").value,
    };
    sessionStorage.removeItem(TOKEN_KEY);
    post({ query: LOGIN, variables: variables })
      .then(function (result) {
        if (result.errors || !result.data) {
          loginError.textContent = result.errors ? result.errors[0].message : "Sign-in failed";
          return;
        }
        sessionStorage.setItem(TOKEN_KEY, result.data.login.accessToken);
        sessionStorage.setItem(USER_KEY, result.data.login.user.username);
        loginForm.reset();
        render();
      })
      .catch(function () {
        loginError.textContent = "The server did not answer";
      });
  });

  document.getElementById("sign-out").addEventListener("click", function () {
    var done = function () {
      sessionStorage.removeItem(TOKEN_KEY);
      sessionStorage.removeItem(USER_KEY);
      render();
    };
    post({ query: "mutation { logout }" }).then(done, done);
  });

  render();
})();
