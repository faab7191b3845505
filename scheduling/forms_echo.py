"""The form of the echo rules page: how one channel echoes its live posts."""

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from scheduling.models import AudienceSegment, EchoRule

MAX_ECHOES_PER_POST = 6
# Below half an hour two posts on one channel read as a burst, not as a reminder.
MIN_GAP_MINUTES = 30
# A week: a larger gap would leave no room for any echo inside the planner's horizon.
MAX_GAP_MINUTES = 7 * 24 * 60
# At most every other echo explores: the rest go where the audience is known to be.
MAX_EXPLORATION_SHARE = 0.5


def _label(field_name: str):
    """The model field's own label, as a ModelForm would show it (fields declared here lose it)."""
    return capfirst(EchoRule._meta.get_field(field_name).verbose_name)


class EchoRuleForm(forms.ModelForm):
    echoes_per_post = forms.IntegerField(
        label=_label("echoes_per_post"),
        min_value=0,
        max_value=MAX_ECHOES_PER_POST,
        help_text=_("From 0 to 6. 0 echoes nothing."),
    )
    min_gap_minutes = forms.IntegerField(
        label=_label("min_gap_minutes"),
        min_value=MIN_GAP_MINUTES,
        max_value=MAX_GAP_MINUTES,
        help_text=_("At least 30."),
    )
    exploration_share = forms.FloatField(
        label=_label("exploration_share"),
        min_value=0,
        max_value=MAX_EXPLORATION_SHARE,
        widget=forms.NumberInput(attrs={"step": "0.05"}),
        help_text=_("From 0 to 0.5: 0.2 sends one echo in five to an hour the desk knows little about."),
    )

    class Meta:
        model = EchoRule
        fields = [
            "is_enabled",
            "echoes_per_post",
            "min_gap_minutes",
            "exploration_share",
            "auto_echo_outside_posts",
            "default_segment",
        ]

    def __init__(self, *args, segment_choices: list[tuple[str, str]] | None = None, **kwargs):
        """``segment_choices``: the audiences as (id, name), read once for every channel's form."""
        super().__init__(*args, **kwargs)
        segments = self.fields["default_segment"]
        segments.queryset = AudienceSegment.objects.filter(is_active=True)
        segments.help_text = _("For posts that name no audience.")
        if segment_choices is not None:
            segments.choices = [("", segments.empty_label), *segment_choices]
