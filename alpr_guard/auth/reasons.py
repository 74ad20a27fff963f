"""Reason codes of authentication refusals: part of the API contract, like the policy's."""

from __future__ import annotations

from enum import StrEnum

from alpr_guard.errors import Refused


class AuthReason(StrEnum):
    # Sign-in at the identity provider.
    MFA_REQUIRED = "mfa_required"  # the provider did not report a multi-factor sign-in
    NO_ROLE = "no_role_mapped"  # no value of the role claim maps to a role here
    AMBIGUOUS_ROLE = "ambiguous_role"  # the values map to more than one role
    NO_AGENCY = "no_agency_mapped"  # the agency claim is missing or maps to no ORI
    INVALID_USERNAME = "invalid_username"  # the username claim is missing or not a username
    ACCOUNT_CONFLICT = "account_conflict"  # the username belongs to another account
    ACCOUNT_DISABLED = "account_disabled"
    LOGIN_STATE_INVALID = "login_state_invalid"  # unknown, reused, expired or foreign state
    PROVIDER_REFUSED = "provider_refused"  # the provider answered with an error
    PROVIDER_ERROR = "provider_error"  # the provider could not be reached or did not verify
    # Any authentication.
    LOCKED_SOURCE = "locked_source"
    LOCKED_ACCOUNT = "locked_account"
    # Sessions and tokens.
    SESSION_EXPIRED = "session_expired"
    CSRF_FAILED = "csrf_failed"
    BEARER_NOT_ALLOWED = "bearer_not_allowed_for_role"
    RATE_LIMITED = "rate_limited"

    @property
    def status(self) -> int:
        return _STATUS.get(self, 403)


_STATUS = {
    AuthReason.SESSION_EXPIRED: 401,
    AuthReason.LOGIN_STATE_INVALID: 400,
    AuthReason.PROVIDER_ERROR: 502,
    AuthReason.RATE_LIMITED: 429,
}


def refused(reason: AuthReason, message: str) -> Refused:
    return Refused(reason.value, reason.status, message)
