from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from api import api as api_v1
from definitions.accounts import views as account_views
from definitions.core import views as core_views
from definitions.home import views as home_views
from leadworkshop.sso import views as sso_views

urlpatterns = [
    path("", home_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("favicon.ico", core_views.favicon, name="favicon"),
    path("accounts/login/", sso_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", sso_views.LogoutView.as_view(), name="logout"),
    # Single sign-on (OpenID Connect): to the provider and back; README "Single sign-on".
    path("accounts/sso/start/", sso_views.SSOStartView.as_view(), name="sso_start"),
    path("accounts/sso/callback/", sso_views.SSOCallbackView.as_view(), name="sso_callback"),
    path(
        "accounts/password/",
        sso_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    # The language switcher must work on the login page too; signed in, it also saves
    # the choice for every device and e-mail.
    path("i18n/setlang/", account_views.language_set, name="set_language"),
    path("inbox/", home_views.inbox, name="inbox"),
    path("inbox/read/", home_views.inbox_read, name="inbox_read"),
    path("admin/", admin.site.urls),
    path("", include("definitions.urls")),
    path("", include("feedback.urls")),
    path("", include("api.urls")),
    path("", include("integrations.urls")),
    # The versioned ingestion API for programs (API keys, no session); see docs/api.md.
    path("api/v1/", api_v1.urls()),
]

# A database that is briefly gone answers 503 with "nothing was saved; try again".
handler500 = "leadworkshop.errors.server_error"
