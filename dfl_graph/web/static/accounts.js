// The sign-in link carries its code in the URL fragment (#...), which browsers never send to a server:
// move it into the form and clear it from the address bar and history. Signing in still takes a click,
// so a mail scanner that opens links cannot use up the single-use code.
document.addEventListener("DOMContentLoaded", () => {
  const code = decodeURIComponent(window.location.hash.slice(1));
  const form = document.getElementById("link-form");
  if (!code || !form) return;
  history.replaceState(null, "", window.location.pathname);
  form.elements.code.value = code;
  document.getElementById("link-sign-in").focus();
});
