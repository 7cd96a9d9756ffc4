"""The public portal: server-rendered pages in zh-CN (`/`) and English (`/en/`)."""
