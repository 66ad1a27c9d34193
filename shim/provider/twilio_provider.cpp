// The live provider: Twilio's REST API through nw::twilio::Client.
#include "config/config.hpp"
#include "provider/provider.hpp"
#include "twilio/client.hpp"

namespace nw::provider {

std::unique_ptr<Provider> MakeSimulator(db::Pool &pool);

namespace {

class TwilioProvider final : public Provider {
public:
    explicit TwilioProvider(twilio::Config config) : client_(std::move(config)) {}
    const char *Name() const override { return "twilio"; }

    twilio::Result<std::vector<twilio::AvailableNumber>> Search(const std::string &country,
                                                                const std::optional<std::string> &area_code,
                                                                const std::optional<std::string> &contains,
                                                                int limit) override
    {
        return client_.search(country, area_code, contains, limit);
    }
    twilio::BuyOutcome Buy(const std::string &phone_number, const std::string &number_id, Deadline deadline) override
    {
        return client_.buy(phone_number, number_id, deadline);
    }
    twilio::Result<std::optional<twilio::OwnedNumber>> FindOwned(const std::string &phone_number,
                                                                 Deadline deadline) override
    {
        return client_.FindOwned(phone_number, deadline);
    }
    twilio::Result<std::vector<twilio::OwnedNumber>> ListOwned(Deadline deadline) override
    {
        return client_.ListOwned(deadline);
    }
    twilio::Result<twilio::ReleaseOutcome> Release(const std::string &sid, Deadline deadline) override
    {
        return client_.release(sid, deadline);
    }

private:
    twilio::Client client_;
};

}  // namespace

std::unique_ptr<Provider> Make(const config::Config &c, db::Pool &pool)
{
    if (c.twilio_testing_mode)
        return MakeSimulator(pool);
    twilio::Config tc;
    tc.apiBase = c.twilio_api_base;
    tc.accountSid = c.twilio_account_sid;
    tc.authToken = c.twilio_auth_token;
    tc.apiKeySid = c.twilio_api_key;
    tc.apiKeySecret = c.twilio_api_secret;
    tc.timeoutMs = c.twilio_timeout_ms;
    tc.voiceUrl = c.twilio_voice_url;
    tc.smsUrl = c.twilio_sms_url;
    return std::make_unique<TwilioProvider>(std::move(tc));
}

}  // namespace nw::provider
