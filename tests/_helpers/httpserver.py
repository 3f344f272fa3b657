"""A local HTTP server on 127.0.0.1 for download tests (http.server in a thread).

Serves the files of one directory. ``/truncated/<name>`` sends <name> with a Content-Length 100 bytes
longer than the data and closes the connection (a download cut off mid-way). Every requested path is
recorded in ``server.requests``.
"""
import contextlib
import functools
import http.server
import os
import threading


class _Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep test output quiet
        pass

    def do_GET(self):
        self.server.requests.append(self.path)
        if self.path.startswith("/truncated/"):
            with open(os.path.join(self.directory, self.path[len("/truncated/"):]), "rb") as f:
                data = f.read()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data) + 100))
            self.end_headers()
            self.wfile.write(data)
            self.close_connection = True
            return
        super().do_GET()


class _Served(object):
    def __init__(self, httpd):
        self._httpd = httpd
        self.base = "http://127.0.0.1:{}".format(httpd.server_address[1])

    @property
    def requests(self):
        return self._httpd.requests

    def url(self, name):
        return self.base + "/" + name


@contextlib.contextmanager
def http_server(directory):
    handler = functools.partial(_Handler, directory=str(directory))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.requests = []
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield _Served(httpd)
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()
