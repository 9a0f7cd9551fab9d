"""The request class: Flask's, closing every file an upload was spooled into."""

from typing import IO, Any

from flask import Request


class WikiRequest(Request):
    """Werkzeug spools each uploaded file into a temporary file and closes those it hands
    over when the request ends; one cut off halfway by a client that stopped sending is
    dropped without being closed. This request closes every one it made."""

    def _get_file_stream(self, *args: Any, **kwargs: Any) -> IO[bytes]:
        stream = super()._get_file_stream(*args, **kwargs)
        self.__dict__.setdefault("_spooled_files", []).append(stream)
        return stream

    def close(self) -> None:
        super().close()
        for stream in self.__dict__.get("_spooled_files", ()):
            stream.close()
