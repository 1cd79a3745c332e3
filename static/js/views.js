// 조회수: a story page counts its reader with one same-origin POST (reader/viewcount.py), so
// that a page served by a cache in front of the site still counts. The server decides what
// counts (bots, staff, a reload within 30 minutes); this only says "a browser showed the page".
(() => {
  const story = document.querySelector("[data-count-url]");
  if (!story) return;
  const url = story.dataset.countUrl;
  if (navigator.sendBeacon && navigator.sendBeacon(url)) return;
  fetch(url, { method: "POST", credentials: "same-origin", keepalive: true }).catch(() => {});
})();
