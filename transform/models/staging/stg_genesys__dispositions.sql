{%- set src = source('genesys', 'dispositions') %}
select
    "id" as wrap_up_code_id,
    "name" as wrap_up_code_name,
    "outboundFlagsSource" as outbound_flags_source,
    cast("isSystemCode" as boolean) as is_system_code,
    cast("isDeleted" as boolean) as is_deleted,
    {{ has_flag('outboundFlags', 'RIGHT_PARTY_CONTACT') }} as is_right_party_contact,
    {{ has_flag('outboundFlags', 'BUSINESS_SUCCESS') }} as is_business_success,
    {{ has_flag('outboundFlags', 'BUSINESS_FAILURE') }} as is_business_failure,
    {{ has_flag('outboundFlags', 'BUSINESS_NEUTRAL') }} as is_business_neutral,
    {{ has_flag('outboundFlags', 'CONTACT_UNCALLABLE') }} as is_contact_uncallable,
    {{ has_flag('outboundFlags', 'NUMBER_UNCALLABLE') }} as is_number_uncallable
from {{ src }}
