"""Who is at the other end of a request, as the audit records it: the source address and the
user agent. Never a token, a cookie or a secret."""

from __future__ import annotations

from dataclasses import dataclass

MAX_USER_AGENT = 200


@dataclass(frozen=True)
class Client:
    source: str | None
    user_agent: str

    def details(self) -> dict[str, object]:
        return {"source": self.source, "user_agent": self.user_agent}


def client(source: str | None, user_agent: str | None) -> Client:
    """A user agent is text the caller chose: keep printable ASCII only, bounded."""
    agent = "".join(ch for ch in (user_agent or "") if " " <= ch <= "~")[:MAX_USER_AGENT]
    return Client(source=(source or None) and source[:64], user_agent=agent)
