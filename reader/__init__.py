"""The reader site: pages, feeds, the sitemap and the preview-link page, with 조회수 counting."""
