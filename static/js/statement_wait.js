// The statement page while the holder signs at the terminal: every few seconds it asks the server
// for the same page. Signed: the server answers with a redirect to the receipt, which the page then
// opens. A refused signature or an expired statement is put into the page and announced through
// the live region. No framework; a static file because the CSP allows no inline script.
(() => {
  const live = document.querySelector("[data-signing-status]");
  if (!live) return;
  const every = Number(live.dataset.pollSeconds || "3") * 1000;
  const url = window.location.href;
  let refusal = (document.querySelector("[data-testid=refusal]") || {}).textContent || "";
  // A form sent from this page (the demo card, a language switch) navigates it: stop asking.
  let stopped = false;
  document.addEventListener("submit", () => {
    stopped = true;
  });

  const announce = (text) => {
    live.textContent = text;
  };

  const check = async () => {
    if (stopped) return;
    let answer;
    try {
      answer = await fetch(url, { redirect: "manual", credentials: "same-origin", headers: { Accept: "text/html" } });
    } catch (error) {
      window.setTimeout(check, every); // the network came back or not: try again
      return;
    }
    if (stopped) return;
    if (answer.type === "opaqueredirect" || (answer.status >= 300 && answer.status < 400)) {
      announce(live.dataset.signedText);
      window.location.reload(); // the page now redirects to the receipt
      return;
    }
    if (!answer.ok) {
      window.setTimeout(check, every);
      return;
    }
    const page = new DOMParser().parseFromString(await answer.text(), "text/html");
    const fresh = page.querySelector("[data-signing-status]");
    const freshRefusal = page.querySelector("[data-testid=refusal]");
    if (freshRefusal && freshRefusal.textContent !== refusal) {
      refusal = freshRefusal.textContent;
      const current = document.querySelector("[data-testid=refusal]");
      if (current) current.replaceWith(document.importNode(freshRefusal, true));
      else live.before(document.importNode(freshRefusal, true));
      announce(live.dataset.refusedText);
    }
    if (!fresh || fresh.dataset.state !== "waiting") {
      announce(live.dataset.expiredText);
      return; // expired: nothing more will come
    }
    window.setTimeout(check, every);
  };
  window.setTimeout(check, every);
})();
