"""SQLModel tables, grouped in families; importing this module registers them all."""

from storage.models.conversation import Conversation, Message
from storage.models.integration import (  # landlords' systems (issue 14)
    ApiKey,
    LandlordEvent,
    WebhookDelivery,
    WebhookSubscription,
)
from storage.models.link_tokens import LinkToken  # Telegram linking (issue 5)
from storage.models.outbox import ContactDecision, OutboxMessage
from storage.models.people import (
    DEFAULT_CONTACT_HOURS,
    AccessNeed,
    Contractor,
    Landlord,
    Operative,
    Property,
    Resident,
    StaffUser,
)
from storage.models.records import AuditEvent, Complaint, Feedback, StaffTask
from storage.models.staff_sessions import StaffLoginAttempt, StaffSession  # issue 13
from storage.models.suppressions import ContactSuppression  # retention (issue 16)
from storage.models.work import Appointment, AppointmentEvent, Availability, Disclosure, RepairJob

__all__ = [
    "DEFAULT_CONTACT_HOURS",
    "AccessNeed",
    "ApiKey",
    "Appointment",
    "AppointmentEvent",
    "AuditEvent",
    "Availability",
    "Complaint",
    "ContactDecision",
    "ContactSuppression",
    "Contractor",
    "Conversation",
    "Disclosure",
    "Feedback",
    "Landlord",
    "LandlordEvent",
    "LinkToken",
    "Message",
    "Operative",
    "OutboxMessage",
    "Property",
    "RepairJob",
    "Resident",
    "StaffLoginAttempt",
    "StaffSession",
    "StaffTask",
    "StaffUser",
    "WebhookDelivery",
    "WebhookSubscription",
]
