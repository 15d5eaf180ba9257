//! The emulated services, registered in one place: the provider-state endpoint looks a
//! service's emulator up here by the name its spec gives.

use super::service_emulator::ServiceEmulator;
use crate::spec::Service;

/// Every service the emulator can set provider states up for.
const EMULATORS: &[&dyn ServiceEmulator] = &[
    &super::alibaba_smc::AlibabaSmc,
    &super::huawei_sms::HuaweiSms,
    &super::huawei_workspace::HuaweiWorkspace,
];

/// The emulator of `service` (by its spec's `service:` name), if there is one.
pub(super) fn emulator_of(service: &Service) -> Option<&'static dyn ServiceEmulator> {
    EMULATORS
        .iter()
        .copied()
        .find(|e| e.service() == service.name())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Catalog;

    #[test]
    fn every_bundled_service_has_one_emulator() {
        let catalog = Catalog::bundled().unwrap();
        for service in catalog.services.values() {
            let found = EMULATORS
                .iter()
                .filter(|e| e.service() == service.name())
                .count();
            assert_eq!(found, 1, "{}", service.name());
        }
        assert_eq!(EMULATORS.len(), catalog.services.len());
    }
}
