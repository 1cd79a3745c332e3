// The story form's live preview: the body (a textarea with data-preview-url) is sent to the
// admin's preview endpoint a moment after the editor stops typing, and the HTML the site's own
// renderer and sanitiser return is shown beside it. Errors are shown, never swallowed.
(() => {
  const DELAY = 400;  // milliseconds of quiet before asking

  function element(tag, className, attributes = {}) {
    const made = document.createElement(tag);
    made.className = className;
    for (const [name, value] of Object.entries(attributes)) made.setAttribute(name, value);
    return made;
  }

  function setUp(textarea) {
    const form = textarea.form;
    const token = form && form.querySelector("input[name=csrfmiddlewaretoken]");
    const editor = element("div", "markdown-editor");
    const pane = element("section", "markdown-preview", { "aria-label": "미리보기" });
    const heading = element("h3", "markdown-preview-title");
    heading.textContent = "미리보기";
    const status = element("p", "markdown-preview-status", { role: "status" });
    const output = element("div", "markdown-preview-body");
    pane.append(heading, status, output);
    textarea.replaceWith(editor);
    editor.append(textarea, pane);

    let timer = null;
    let inFlight = null;

    function show(message, isError) {
      status.textContent = message;
      status.classList.toggle("errornote", Boolean(isError));
    }

    async function refresh() {
      if (inFlight) inFlight.abort();
      inFlight = new AbortController();
      show("미리보기를 그리는 중…", false);
      try {
        const response = await fetch(textarea.dataset.previewUrl, {
          method: "POST",
          credentials: "same-origin",
          headers: {
            "Content-Type": "application/json",
            "X-CSRFToken": token ? token.value : "",
          },
          body: JSON.stringify({ body: textarea.value }),
          signal: inFlight.signal,
        });
        const type = response.headers.get("Content-Type") || "";
        const data = type.includes("application/json") ? await response.json() : {};
        if (!response.ok) {
          show(data.error || `미리보기를 그리지 못했습니다 (HTTP ${response.status}).`, true);
          return;
        }
        output.innerHTML = data.html;  // sanitised on the server (articles/rendering.py)
        show(textarea.value.trim() ? "" : "본문을 쓰면 여기에 독자가 볼 모습이 나옵니다.", false);
      } catch (error) {
        if (error.name === "AbortError") return;
        show("미리보기를 불러오지 못했습니다. 연결을 확인해 주세요.", true);
      }
    }

    textarea.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(refresh, DELAY);
    });
    refresh();
  }

  function start() {
    document.querySelectorAll("textarea[data-preview-url]").forEach(setUp);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
