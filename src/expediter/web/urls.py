"""The pages: sign-in, the agent's workspace, the requester's portal, reports."""

from django.urls import path

from expediter.web.views import auth, home, language, portal, queues, reports, ticket

app_name = "web"

urlpatterns = [
    path("", home.home, name="home"),
    # accounts
    path("login", auth.login_view, name="login"),
    path("logout", auth.logout_view, name="logout"),
    path("password-reset", auth.PasswordResetView.as_view(), name="password_reset"),
    path("password-reset/sent", auth.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "password-reset/<uidb64>/<token>",
        auth.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/done",
        auth.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("language", language.set_language, name="set_language"),
    # agent workspace
    path("queues/<slug:name>", queues.queue, name="queue"),
    path("tickets/<int:ticket_id>", ticket.ticket_detail, name="ticket"),
    path("tickets/<int:ticket_id>/reply", ticket.ticket_reply, name="ticket_reply"),
    path("tickets/<int:ticket_id>/update", ticket.ticket_update, name="ticket_update"),
    path("tickets/<int:ticket_id>/tags", ticket.ticket_tags, name="ticket_tags"),
    path("tickets/<int:ticket_id>/link", ticket.ticket_link, name="ticket_link"),
    path("tickets/<int:ticket_id>/merge", ticket.ticket_merge, name="ticket_merge"),
    path("tickets/<int:ticket_id>/worklog", ticket.ticket_worklog, name="ticket_worklog"),
    path("attachments/<int:attachment_id>", ticket.attachment_download, name="attachment"),
    path("reports/worklog", reports.worklog_report_page, name="worklog_report"),
    # requester portal
    path("portal/", portal.portal_list, name="portal"),
    path("portal/new", portal.portal_new, name="portal_new"),
    path("portal/requests/<int:ticket_id>", portal.portal_ticket, name="portal_ticket"),
    path("portal/requests/<int:ticket_id>/reply", portal.portal_reply, name="portal_reply"),
]

# appointments and on-site visits
from expediter.web.views import appointments  # noqa: E402

urlpatterns += [
    path(
        "tickets/<int:ticket_id>/appointments",
        appointments.ticket_panel,
        name="appointment_ticket_panel",
    ),
    path("tickets/<int:ticket_id>/appointments/book", appointments.book, name="appointment_book"),
    path("tickets/<int:ticket_id>/slots", appointments.slot_picker, name="appointment_slots"),
    path(
        "portal/requests/<int:ticket_id>/slots",
        appointments.slot_picker,
        name="appointment_portal_slots",
    ),
    path("portal/appointments", appointments.my_appointments, name="appointment_mine"),
    path(
        "appointments/<int:appointment_id>/status",
        appointments.set_status,
        name="appointment_status",
    ),
    path("calendar/team", appointments.team_calendar, name="team_calendar"),
    path("calendar/feed", appointments.feed_link, name="appointment_feed"),
    path("calendar/feed/reset", appointments.feed_reset, name="appointment_feed_reset"),
    path("visits/plan", appointments.visit_plan, name="visit_plan"),
    path("visits/day/<int:agent_id>", appointments.agent_day, name="agent_day"),
]

from expediter.web.views import calls  # noqa: E402

urlpatterns += [
    path("calls", calls.calls_page, name="calls"),
    path("calls/lookup", calls.caller_lookup, name="call_lookup"),
    path("calls/log", calls.call_log_view, name="call_log"),
    path("calls/<int:call_id>/called-back", calls.call_called_back, name="call_called_back"),
]

# service levels: calendars, policies, attainment
from expediter.web.views import sla as sla_views  # noqa: E402

urlpatterns += [
    path("sla/calendars", sla_views.sla_calendars, name="sla_calendars"),
    path("sla/calendars/<int:calendar_id>", sla_views.sla_calendar_edit, name="sla_calendar_edit"),
    path(
        "sla/calendars/<int:calendar_id>/delete",
        sla_views.sla_calendar_delete,
        name="sla_calendar_delete",
    ),
    path("sla/policies", sla_views.sla_policies, name="sla_policies"),
    path("sla/policies/<int:policy_id>", sla_views.sla_policy_edit, name="sla_policy_edit"),
    path(
        "sla/policies/<int:policy_id>/delete", sla_views.sla_policy_delete, name="sla_policy_delete"
    ),
    path("sla/report", sla_views.sla_report, name="sla_report"),
    path("sla/report.csv", sla_views.sla_report_csv, name="sla_report_csv"),
    path(
        "sla/report/breached.csv", sla_views.sla_report_breached_csv, name="sla_report_breached_csv"
    ),
]

# schedules, on call, routing and coverage
from expediter.web.views import routing as routing_views  # noqa: E402
from expediter.web.views import schedules as schedule_views  # noqa: E402

urlpatterns += [
    path("schedules", schedule_views.schedule_team, name="schedule_team"),
    path("schedules/me", schedule_views.schedule_mine, name="schedule_mine"),
    path("schedules/agents/<int:agent_id>", schedule_views.schedule_agent, name="schedule_agent"),
    path(
        "schedules/time-off/request",
        schedule_views.schedule_timeoff_request,
        name="schedule_timeoff_request",
    ),
    path(
        "schedules/time-off/<int:time_off_id>/decide",
        schedule_views.schedule_timeoff_decide,
        name="schedule_timeoff_decide",
    ),
    path(
        "schedules/time-off/<int:time_off_id>/withdraw",
        schedule_views.schedule_timeoff_withdraw,
        name="schedule_timeoff_withdraw",
    ),
    path("on-call", schedule_views.oncall_overview, name="oncall_overview"),
    path("routing", routing_views.routing_board, name="routing_board"),
    path("routing/assign", routing_views.routing_assign, name="routing_assign"),
    path("routing/settings", routing_views.routing_settings, name="routing_settings"),
    path("coverage", routing_views.coverage, name="coverage"),
]

# mail: quarantine, ignored mail and outbox (admins); notifications; sign-in links
from expediter.web.views import mail as mail_views  # noqa: E402

urlpatterns += [
    path("mail/quarantine", mail_views.mail_quarantine, name="mail_quarantine"),
    path("mail/ignored", mail_views.mail_ignored, name="mail_ignored"),
    path(
        "mail/inbound/<int:inbound_id>/release",
        mail_views.mail_inbound_release,
        name="mail_inbound_release",
    ),
    path(
        "mail/inbound/<int:inbound_id>/delete",
        mail_views.mail_inbound_delete,
        name="mail_inbound_delete",
    ),
    path("mail/inbound/<int:inbound_id>/raw", mail_views.mail_inbound_raw, name="mail_inbound_raw"),
    path("mail/outbox", mail_views.mail_outbox, name="mail_outbox"),
    path(
        "mail/outbox/<int:message_id>/retry", mail_views.mail_outbox_retry, name="mail_outbox_retry"
    ),
    path("notifications", mail_views.notification_list, name="notification_list"),
    path("notifications/read", mail_views.notification_read, name="notification_read"),
    path(
        "notifications/preferences",
        mail_views.notification_preferences,
        name="notification_preferences",
    ),
    path("magic/<str:token>", mail_views.magic_login, name="magic_login"),
]
