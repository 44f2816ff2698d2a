from django.urls import path

from . import views

W = "w/<slug:ws>/"
M = W + "m/<slug:key>/"

urlpatterns = [
    path("", views.home, name="home"),
    path(W, views.workspace, name="workspace"),
    path(W + "maps/new/", views.map_create, name="map_create"),
    path(W + "maps/import/", views.map_import, name="map_import"),
    path(W + "maps/import/apply/", views.map_import_apply, name="map_import_apply"),
    path(M, views.map_detail, name="map_detail"),
    path(M + "board/", views.map_board, name="map_board"),
    path(M + "present/", views.map_present, name="map_present"),
    # live: the check every open map page polls (204 from the cache while nothing changed)
    path(M + "live/", views.map_live, name="map_live"),
    path(M + "gaps/", views.map_gaps, name="map_gaps"),
    path(M + "diagram/", views.map_diagram, name="map_diagram"),
    path(M + "export/<str:fmt>/", views.map_download, name="map_download"),
    path(M + "export.json", views.map_export_json, name="map_export_json"),
    path(M + "csv/<str:table>.csv", views.csv_download, name="csv_download"),
    path(M + "import-csv/", views.csv_import, name="csv_import"),
    path(M + "import-csv/apply/", views.csv_apply, name="csv_apply"),
    path(M + "settings/", views.map_settings, name="map_settings"),
    path(M + "replace/", views.map_replace, name="map_replace"),
    path(M + "replace/apply/", views.map_replace_apply, name="map_replace_apply"),
    path(M + "archive/", views.map_archive, name="map_archive"),
    path(M + "delete/", views.map_delete, name="map_delete"),
    # stages
    path(M + "stages/new/", views.stage_create, name="stage_create"),
    path(M + "stages/order/", views.stage_reorder, name="stage_reorder"),
    path(M + "s/<slug:stage>/", views.stage_edit, name="stage_edit"),
    path(M + "s/<slug:stage>/move/<str:direction>/", views.stage_move, name="stage_move"),
    path(M + "s/<slug:stage>/delete/", views.stage_delete, name="stage_delete"),
    path(M + "s/<slug:stage>/metrics/new/", views.metric_create, name="metric_create"),
    path(M + "metrics/<int:pk>/", views.metric_edit, name="metric_edit"),
    path(M + "metrics/<int:pk>/delete/", views.metric_delete, name="metric_delete"),
    path(M + "s/<slug:stage>/criteria/new/", views.criterion_create, name="criterion_create"),
    path(M + "criteria/<int:pk>/delete/", views.criterion_delete, name="criterion_delete"),
    # touchpoints
    path(M + "s/<slug:stage>/touchpoints/new/", views.touchpoint_create, name="touchpoint_create"),
    path(M + "touchpoints/order/", views.touchpoint_reorder, name="touchpoint_reorder"),
    path(M + "t/<slug:tp>/", views.touchpoint_edit, name="touchpoint_edit"),
    path(M + "t/<slug:tp>/move/<str:direction>/", views.touchpoint_move, name="touchpoint_move"),
    path(M + "t/<slug:tp>/delete/", views.touchpoint_delete, name="touchpoint_delete"),
    path(M + "t/<slug:tp>/flows/", views.flow_add, name="flow_add"),
    path(M + "t/<slug:tp>/flows/<slug:target>/delete/", views.flow_delete, name="flow_delete"),
    # personas of the map
    path(M + "personas/", views.map_personas, name="map_personas"),
    path(M + "personas/<int:pk>/", views.map_persona_edit, name="map_persona_edit"),
    path(M + "personas/<int:pk>/remove/", views.map_persona_remove, name="map_persona_remove"),
    path(M + "personas/new/", views.map_persona_new, name="map_persona_new"),
    # matrices
    path(M + "coverage/", views.coverage, name="coverage"),
    path(M + "coverage/link/", views.coverage_link, name="coverage_link"),
    path(M + "accountability/", views.accountability, name="accountability"),
    path(M + "funnel/", views.funnel, name="funnel"),
    path(M + "funnel/whatif/", views.funnel_whatif, name="funnel_whatif"),
    # monitoring: reviews
    path(M + "review/", views.map_review, name="map_review"),
    path(M + "review/done/", views.map_mark_reviewed, name="map_mark_reviewed"),
    # actions: what to fix first
    path(M + "actions/", views.map_actions, name="map_actions"),
    path(M + "actions/new/", views.action_create, name="action_create"),
    path(M + "a/<slug:act>/", views.action_edit, name="action_edit"),
    path(M + "a/<slug:act>/delete/", views.action_delete, name="action_delete"),
    path(M + "a/<slug:act>/status/", views.action_status, name="action_status"),
    # guiding questions and SWOT
    path(M + "questions/", views.map_questions, name="map_questions"),
    path(M + "s/<slug:stage>/questions/<int:number>/", views.question_answer, name="question_answer"),
    path(M + "swot/", views.map_swot, name="map_swot"),
    path(M + "swot/new/", views.swot_create, name="swot_create"),
    path(M + "swot/i/<slug:item>/", views.swot_edit, name="swot_edit"),
    path(M + "swot/i/<slug:item>/delete/", views.swot_delete, name="swot_delete"),
    # dot voting
    path(M + "votes/", views.map_votes, name="map_votes"),
    path(M + "votes/new/", views.vote_open, name="vote_open"),
    path(M + "votes/latest/", views.vote_latest, name="vote_latest"),
    path(M + "votes/<int:pk>/close/", views.vote_close, name="vote_close"),
    path(M + "votes/<int:pk>/result.csv", views.vote_csv, name="vote_csv"),
    path(M + "votes/<int:pk>/<str:action>/", views.vote_dot, name="vote_dot"),
    # history and undo
    path(M + "history/", views.map_history, name="map_history"),
    path(M + "history/<int:number>/", views.map_revision, name="map_revision"),
    path(M + "history/<int:number>/restore/", views.map_restore, name="map_restore"),
    path(M + "undo/", views.map_undo, name="map_undo"),
    # library
    path(W + "library/<str:kind>/", views.library_list, name="library_list"),
    path(W + "library/<str:kind>/new/", views.library_create, name="library_create"),
    path(W + "library/<str:kind>/<slug:item>/", views.library_edit, name="library_edit"),
    path(W + "library/<str:kind>/<slug:item>/delete/", views.library_delete, name="library_delete"),
    # comments: threads on the map, its stages, touchpoints and gap rows
    path(M + "comments/", views.map_comments, name="map_comments"),
    path(M + "comments/new/", views.comment_post, name="comment_post"),
    path(M + "comments/<int:pk>/reply/", views.comment_reply, name="comment_reply"),
    path(M + "comments/<int:pk>/resolve/", views.comment_resolve, name="comment_resolve"),
    path(M + "comments/<int:pk>/reopen/", views.comment_reopen, name="comment_reopen"),
    # the trash
    path(W + "trash/", views.trash_list, name="trash"),
    path(W + "trash/<int:pk>/restore/", views.trash_restore, name="trash_restore"),
    path(W + "trash/empty/", views.trash_empty, name="trash_empty"),
    # members: the workspace settings page and invitation links
    path(W + "settings/", views.workspace_settings, name="workspace_settings"),
    path(W + "settings/members/<int:pk>/role/", views.member_role, name="member_role"),
    path(W + "settings/members/<int:pk>/remove/", views.member_remove, name="member_remove"),
    path(W + "settings/leave/", views.workspace_leave, name="workspace_leave"),
    path(W + "settings/audit/", views.audit_log, name="audit_log"),
    path(W + "settings/backup.json", views.workspace_backup, name="workspace_backup"),
    path(W + "settings/invitations/new/", views.invitation_create, name="invitation_create"),
    path(W + "settings/invitations/<int:pk>/revoke/", views.invitation_revoke, name="invitation_revoke"),
    path("invite/<str:token>/", views.invite_accept, name="invite_accept"),
    # read-only share links: managed from the map, opened by anyone holding the token
    path(M + "share/", views.map_shares, name="map_shares"),
    path(M + "share/<int:pk>/revoke/", views.share_revoke, name="share_revoke"),
    path("s/<slug:token>/", views.share_page, name="share_page"),
    path("s/<slug:token>/password/", views.share_unlock, name="share_unlock"),
    path("s/<slug:token>/diagram.svg", views.share_diagram, name="share_diagram"),
]
