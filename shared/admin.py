"""The admin secret: who may load, unload and preload models, and re-verify the model files.

AIPM_ADMIN_PASSWORD (a Space secret) unlocks these actions; without it they are refused for
everyone and the System tab is read-only. Status stays public. API callers pass the password as
the action's last argument.
"""
from __future__ import annotations

import hmac
import logging
import time

from shared.config import settings
from shared.i18n import add, t
from shared.ui import UserError

log = logging.getLogger(__name__)

_WRONG_DELAY_S = 1.0  # a wrong password costs a second: guessing stays slow

add({
    "admin.title": ("Admin", "管理"),
    "admin.password": ("Admin password", "管理密码"),
    "admin.unlock": ("Unlock admin actions", "解锁管理操作"),
    "admin.unlocked": ("Admin actions are unlocked for this page.", "本页面的管理操作已解锁。"),
    "admin.disabled": ("Admin actions (load, unload, load all, verify, API keys, billing) are turned off on this "
                       "server: it has no admin password (set AIPM_ADMIN_PASSWORD). Status is public.",
                       "此服务器未设置管理密码（AIPM_ADMIN_PASSWORD），管理操作（加载、卸载、全部加载、校验、API 密钥、账单）已关闭。"
                       "状态信息公开可见。"),
    "admin.locked": ("Admin actions (load, unload, load all, verify, API keys, billing) need the admin password: "
                     "enter it below and unlock.",
                     "管理操作（加载、卸载、全部加载、校验、API 密钥、账单）需要管理密码：请在下方输入并解锁。"),
    "admin.error.disabled": ("This action is for admins, and admin actions are turned off on this server "
                             "(no AIPM_ADMIN_PASSWORD is set).",
                             "此操作仅限管理员，而此服务器未设置 AIPM_ADMIN_PASSWORD，管理操作已关闭。"),
    "admin.error.wrong": ("This action is for admins: the admin password is missing or wrong.",
                          "此操作仅限管理员：管理密码缺失或错误。"),
})


def enabled() -> bool:
    return bool(settings().admin_password)


def is_admin(password) -> bool:
    secret = settings().admin_password
    if not secret or not isinstance(password, str) or not password:
        return False
    return hmac.compare_digest(password.encode("utf-8", "replace"), secret.encode("utf-8", "replace"))


def require(password, lang: str = "en") -> None:
    """Return quietly for the right password; else UserError saying why (after a delay if wrong)."""
    if not enabled():
        raise UserError(t("admin.error.disabled", lang))
    if not is_admin(password):
        log.warning("admin action refused: wrong or missing password")
        time.sleep(_WRONG_DELAY_S)
        raise UserError(t("admin.error.wrong", lang))
