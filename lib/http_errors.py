"""Did a failed HTTP request reach the server? Imports no Django.

After a write fails without an answer, the caller must know whether the network may have acted:
a connection that was never opened (refused, unknown host, connect timeout, TLS or proxy failure)
sent nothing, so the write can simply be tried again; a read timeout or a connection dropped
mid-answer may have come after the network accepted it, so the caller must look before repeating it.
"""

import requests
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError


def requests_error_before_sending(exc: BaseException) -> bool:
    """True when `exc` (a requests exception) shows the request never left this machine."""
    if isinstance(
        exc, requests.ConnectTimeout | requests.exceptions.SSLError | requests.exceptions.ProxyError
    ):
        return True
    if isinstance(exc, requests.ConnectionError) and exc.args:
        reason = exc.args[0]
        # requests raises a plain ConnectionError for a refused connection or an unknown host:
        # urllib3 reports both as a NewConnectionError, a ConnectTimeoutError subclass.
        return isinstance(reason, MaxRetryError) and isinstance(reason.reason, ConnectTimeoutError)
    return False
