from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from maps import styles, views

urlpatterns = [
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("language/", views.set_language, name="set_language"),
    path("admin/", admin.site.urls),
    path("marks.css", styles.marks_css, name="marks_css"),
    path("", include("maps.urls")),
]
