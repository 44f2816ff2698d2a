from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from maps import health, styles, views

urlpatterns = [
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/", views.account, name="account"),
    path("accounts/sign-out-everywhere/", views.sign_out_everywhere, name="sign_out_everywhere"),
    # For load balancers: the database and the cache answer (JSON; 503 when not).
    path("healthz", health.healthz, name="healthz"),
    path("language/", views.set_language, name="set_language"),
    path("admin/", admin.site.urls),
    path("marks.css", styles.marks_css, name="marks_css"),
    path("", include("maps.urls")),
]

# The friendly 500 page, with the request id that the log line of the error carries.
handler500 = "maps.health.server_error"
