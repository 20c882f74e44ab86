"""landlord integration: references, API keys, events, webhooks (issue 14)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 13:48:11.132967
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types


revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('api_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('landlord_id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('prefix', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('key_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('scope', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['landlord_id'], ['landlords.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_keys_landlord_id'), ['landlord_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_api_keys_prefix'), ['prefix'], unique=True)

    op.create_table('webhook_subscriptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('landlord_id', sa.Integer(), nullable=False),
    sa.Column('url', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('secret', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('events', sa.JSON(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['landlord_id'], ['landlords.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('webhook_subscriptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webhook_subscriptions_landlord_id'), ['landlord_id'], unique=False)

    op.create_table('landlord_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('landlord_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=True),
    sa.Column('job_reference', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('occurred_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['job_id'], ['repair_jobs.id'], ),
    sa.ForeignKeyConstraint(['landlord_id'], ['landlords.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('landlord_events', schema=None) as batch_op:
        batch_op.create_index('ix_landlord_events_feed', ['landlord_id', 'id'], unique=False)

    op.create_table('webhook_deliveries',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('subscription_id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('ordering_key', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('not_before', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('claimed_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('claimed_by', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('last_status_code', sa.Integer(), nullable=True),
    sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
    sa.Column('delivered_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['landlord_events.id'], ),
    sa.ForeignKeyConstraint(['subscription_id'], ['webhook_subscriptions.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('subscription_id', 'event_id')
    )
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_webhook_deliveries_due', ['status', 'not_before'], unique=False)
        batch_op.create_index('ix_webhook_deliveries_order', ['subscription_id', 'ordering_key', 'event_id'], unique=False)

    # New columns arrive nullable, are filled from what is already there, then tightened.
    with op.batch_alter_table('landlords', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reference', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True))
    op.execute("UPDATE landlords SET reference = 'landlord-' || CAST(id AS VARCHAR(20))")
    with op.batch_alter_table('landlords', schema=None) as batch_op:
        batch_op.alter_column('reference', existing_type=sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False)
        batch_op.create_index(batch_op.f('ix_landlords_reference'), ['reference'], unique=True)

    with op.batch_alter_table('operatives', schema=None) as batch_op:
        batch_op.add_column(sa.Column('landlord_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('reference', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True))
        batch_op.add_column(sa.Column('source_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.add_column(sa.Column('updated_at', storage.types.UTCDateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE operatives SET landlord_id = "
        "(SELECT c.landlord_id FROM contractors c WHERE c.id = operatives.contractor_id)"
    )
    with op.batch_alter_table('operatives', schema=None) as batch_op:
        batch_op.alter_column('landlord_id', existing_type=sa.Integer(), nullable=False)
        batch_op.create_index(batch_op.f('ix_operatives_landlord_id'), ['landlord_id'], unique=False)
        batch_op.create_unique_constraint('uq_operatives_landlord_reference', ['landlord_id', 'reference'])
        batch_op.create_foreign_key('fk_operatives_landlord_id', 'landlords', ['landlord_id'], ['id'])

    with op.batch_alter_table('properties', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reference', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True))
        batch_op.add_column(sa.Column('uprn', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=True))
        batch_op.add_column(sa.Column('source_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.add_column(sa.Column('updated_at', storage.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_properties_uprn'), ['uprn'], unique=False)
        batch_op.create_unique_constraint('uq_properties_landlord_reference', ['landlord_id', 'reference'])

    with op.batch_alter_table('repair_jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('landlord_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('sor_code', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True))
        batch_op.add_column(sa.Column('hazard_category', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True))
        batch_op.add_column(sa.Column('raised_at', storage.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('target_date', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('invited_at', storage.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('invite_followed_up_at', storage.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('unbooked_listed_at', storage.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('source_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.add_column(sa.Column('updated_at', storage.types.UTCDateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE repair_jobs SET landlord_id = "
        "(SELECT p.landlord_id FROM properties p WHERE p.id = repair_jobs.property_id)"
    )
    with op.batch_alter_table('repair_jobs', schema=None) as batch_op:
        batch_op.alter_column('landlord_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_index(batch_op.f('ix_repair_jobs_reference'))
        batch_op.create_index(batch_op.f('ix_repair_jobs_landlord_id'), ['landlord_id'], unique=False)
        batch_op.create_unique_constraint('uq_repair_jobs_landlord_reference', ['landlord_id', 'reference'])
        batch_op.create_foreign_key('fk_repair_jobs_landlord_id', 'landlords', ['landlord_id'], ['id'])

    with op.batch_alter_table('residents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reference', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True))
        batch_op.add_column(sa.Column('source_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.add_column(sa.Column('updated_at', storage.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_unique_constraint('uq_residents_landlord_reference', ['landlord_id', 'reference'])


def downgrade() -> None:
    with op.batch_alter_table('residents', schema=None) as batch_op:
        batch_op.drop_constraint('uq_residents_landlord_reference', type_='unique')
        batch_op.drop_column('updated_at')
        batch_op.drop_column('source_hash')
        batch_op.drop_column('reference')

    with op.batch_alter_table('repair_jobs', schema=None) as batch_op:
        batch_op.drop_constraint('fk_repair_jobs_landlord_id', type_='foreignkey')
        batch_op.drop_constraint('uq_repair_jobs_landlord_reference', type_='unique')
        batch_op.drop_index(batch_op.f('ix_repair_jobs_landlord_id'))
        batch_op.create_index(batch_op.f('ix_repair_jobs_reference'), ['reference'], unique=1)
        batch_op.drop_column('updated_at')
        batch_op.drop_column('source_hash')
        batch_op.drop_column('unbooked_listed_at')
        batch_op.drop_column('invite_followed_up_at')
        batch_op.drop_column('invited_at')
        batch_op.drop_column('target_date')
        batch_op.drop_column('raised_at')
        batch_op.drop_column('hazard_category')
        batch_op.drop_column('sor_code')
        batch_op.drop_column('landlord_id')

    with op.batch_alter_table('properties', schema=None) as batch_op:
        batch_op.drop_constraint('uq_properties_landlord_reference', type_='unique')
        batch_op.drop_index(batch_op.f('ix_properties_uprn'))
        batch_op.drop_column('updated_at')
        batch_op.drop_column('source_hash')
        batch_op.drop_column('uprn')
        batch_op.drop_column('reference')

    with op.batch_alter_table('operatives', schema=None) as batch_op:
        batch_op.drop_constraint('fk_operatives_landlord_id', type_='foreignkey')
        batch_op.drop_constraint('uq_operatives_landlord_reference', type_='unique')
        batch_op.drop_index(batch_op.f('ix_operatives_landlord_id'))
        batch_op.drop_column('updated_at')
        batch_op.drop_column('source_hash')
        batch_op.drop_column('reference')
        batch_op.drop_column('landlord_id')

    with op.batch_alter_table('landlords', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_landlords_reference'))
        batch_op.drop_column('reference')

    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_webhook_deliveries_order')
        batch_op.drop_index('ix_webhook_deliveries_due')

    op.drop_table('webhook_deliveries')
    with op.batch_alter_table('landlord_events', schema=None) as batch_op:
        batch_op.drop_index('ix_landlord_events_feed')

    op.drop_table('landlord_events')
    with op.batch_alter_table('webhook_subscriptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webhook_subscriptions_landlord_id'))

    op.drop_table('webhook_subscriptions')
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_keys_prefix'))
        batch_op.drop_index(batch_op.f('ix_api_keys_landlord_id'))

    op.drop_table('api_keys')
