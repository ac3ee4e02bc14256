export const PAGE_HTML = ''; export const PAGE_JS = ''; export const PAGE_CSS = '';
